/**
 * A request body's bytes → its JSON value, the same way on the event loop (small bodies) and in the body
 * thread (body-thread.ts, large ones): strict UTF-8, a leading BOM ignored, blank → absent, and only an object
 * counts as a body.
 */

/** The body is not a JSON object (or not UTF-8): only routes that read a body refuse it (INVALID_PARAM:body). */
export type ParsedJson = { ok: true; value: object | undefined } | { ok: false };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The parsed JSON object; undefined for an empty body (routes that need one then name the first missing
 * field). Not UTF-8 is malformed rather than U+FFFD characters silently stored in a name.
 */
export function parseJsonBody(bytes: Uint8Array): ParsedJson {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false };
  }
  const json = text.replace(/^\uFEFF/, '');
  if (json.trim() === '') return { ok: true, value: undefined };
  try {
    const value = JSON.parse(json) as unknown;
    // Only an object can be a request body; `null`, arrays and scalars are not "absent fields".
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ok: true, value } : { ok: false };
  } catch {
    return { ok: false };
  }
}
