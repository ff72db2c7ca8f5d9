/**
 * The body thread's fast path for photos (body-thread.ts): the base64 text of an image field is cut out of the
 * body's bytes before the JSON is decoded, and decoded straight from those bytes. Decoding a 1080p compare body
 * as UTF-8 and parsing it as JSON cost ~8 ms of the ~11 ms it took the thread, twice the cost of the two
 * base64 decodings alone; what is left to parse without the images is a few hundred bytes.
 *
 * The cut is only taken where it cannot change the answer: the string is the value of a top-level image field
 * that JSON.parse would keep (the last occurrence of the key), it has no escapes, and its bytes are ASCII with
 * no control characters that the base64 check would skip. Anything else (escaped `\/`, a nested field,
 * malformed JSON, text that is not base64) is left to the ordinary path, which gives the same answer it
 * always gave, errors included.
 */
import { isAscii } from 'node:buffer';
import { movableBuffer } from '../movable-bytes.js';
import { DATA_URL_PREFIX, decodeBase64Image, MAX_IMAGE_BYTES, type Base64ImageResult } from './data-url.js';

/** Shorter strings are not worth cutting: parsing them is cheap. */
const MIN_CUT_LENGTH = 4096;
/** `data:image/jpeg;base64,` and the like; a longer header is left to the ordinary path. */
const MAX_HEADER_LENGTH = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

/** Where one string's text lies in the body (between its quotes). */
interface Span {
  start: number;
  end: number;
}

export interface CutBody {
  /** The body with each cut string emptied (`""`): what is left to parse as JSON. */
  skeleton: Uint8Array;
  /** Each cut image field's decoded image; the field is `""` in the skeleton. */
  images: Map<string, Base64ImageResult & { ok: true }>;
}

const isWhitespace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** The index of the quote that closes the string whose opening quote is at `open`, or -1. */
function closingQuote(bytes: Buffer, open: number): number {
  let at = bytes.indexOf(QUOTE, open + 1);
  while (at >= 0) {
    let backslashes = 0;
    while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = bytes.indexOf(QUOTE, at + 1);
  }
  return -1;
}

/** The first byte after `from` that is not JSON whitespace, or -1 at the end. */
function nextToken(bytes: Buffer, from: number): number {
  for (let i = from; i < bytes.length; i++) if (!isWhitespace(bytes[i]!)) return bytes[i]!;
  return -1;
}

/** A key's text; undefined when its escapes do not parse (the ordinary path reports the body). */
function keyText(bytes: Buffer, span: Span): string | undefined {
  const raw = bytes.subarray(span.start, span.end);
  if (raw.indexOf(BACKSLASH) < 0) return raw.toString('latin1');
  try {
    return JSON.parse(`"${raw.toString('utf8')}"`) as string;
  } catch {
    return undefined;
  }
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Byte → its 6 bits, or -1 for a byte outside the standard alphabet. */
const BASE64_VALUES = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) BASE64_VALUES[BASE64_ALPHABET.charCodeAt(i)] = i;
const EQUALS = 0x3d;

/**
 * Canonical base64 (the standard alphabet, a multiple of 4 long, `=` only as final padding) → bytes, straight
 * from the bytes; undefined for any other text. In the body thread this is twice as fast as making a string of
 * the text for Buffer's decoder (~2 ms a 1080p photo).
 */
function decodeCanonicalBase64(text: Buffer): Buffer | undefined {
  const length = text.length;
  if (length === 0 || length % 4 !== 0) return undefined;
  const padding = text[length - 1] === EQUALS ? (text[length - 2] === EQUALS ? 2 : 1) : 0;
  // Into a buffer of its own, which moves on to the loop and the vision worker (movable-bytes.ts).
  const out = movableBuffer((length / 4) * 3 - padding);
  const values = BASE64_VALUES;
  const whole = length - (padding > 0 ? 4 : 0);
  // Any byte outside the alphabet makes its quantum negative, and so `invalid`.
  let invalid = 0;
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const quantum = (values[text[i]!]! << 18) | (values[text[i + 1]!]! << 12) | (values[text[i + 2]!]! << 6) | values[text[i + 3]!]!;
    invalid |= quantum;
    out[o++] = quantum >> 16;
    out[o++] = (quantum >> 8) & 0xff;
    out[o++] = quantum & 0xff;
  }
  if (padding > 0) {
    const third = padding === 1 ? values[text[whole + 2]!]! : 0;
    const quantum = (values[text[whole]!]! << 18) | (values[text[whole + 1]!]! << 12) | (third << 6);
    invalid |= quantum;
    out[o++] = quantum >> 16;
    if (padding === 1) out[o++] = (quantum >> 8) & 0xff;
  }
  return invalid < 0 ? undefined : out;
}

/**
 * The base64 image in `span`, decoded as the ordinary path would decode the same text, or undefined when the
 * text might be read differently there (escapes, non-ASCII or control bytes, a long header) or is no image.
 */
function decodeSpan(bytes: Buffer, span: Span): (Base64ImageResult & { ok: true }) | undefined {
  const raw = bytes.subarray(span.start, span.end);
  if (raw.indexOf(BACKSLASH) >= 0 || !isAscii(raw)) return undefined;
  // The base64 check skips whitespace anywhere and takes any header up to its comma; JSON forbids raw control
  // characters in a string, so none may hide there. Past the header, any other skipped byte shortens the
  // decoding, which the check refuses.
  for (const control of [0x09, 0x0a, 0x0b, 0x0c, 0x0d]) if (raw.indexOf(control) >= 0) return undefined;
  const comma = raw.indexOf(COMMA);
  if (comma >= 0) {
    if (comma > MAX_HEADER_LENGTH) return undefined;
    for (let i = 0; i < comma; i++) if (raw[i]! < 0x20) return undefined;
  }
  // The common case, canonical base64 behind a well-formed header (or none), is decoded from the bytes.
  const header = comma >= 0 ? raw.toString('latin1', 0, comma + 1) : '';
  if (comma < 0 ? raw[0] !== 0x20 && !/^data:/i.test(raw.toString('latin1', 0, 5)) : DATA_URL_PREFIX.exec(header)?.[0] === header) {
    const image = decodeCanonicalBase64(raw.subarray(header.length));
    if (image !== undefined && image.length <= MAX_IMAGE_BYTES) return { ok: true, bytes: image };
  }
  const decoded = decodeBase64Image(raw.toString('latin1'));
  return decoded.ok ? decoded : undefined;
}

/**
 * Cuts the long string values of the top-level `fields` out of a JSON body and decodes them as base64 images.
 * Undefined when there is nothing to cut, or when a cut string is not an image the ordinary path would accept
 * as it is: the caller then parses the whole body the ordinary way.
 */
export function cutImageFields(body: Uint8Array, fields: readonly string[]): CutBody | undefined {
  // Buffer's indexOf is memchr; a plain Uint8Array's (what a thread receives) is several times slower.
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  /** The last top-level value of each image field: its span when long enough to cut, else null. */
  const lastValues = new Map<string, Span | null>();
  let depth = 0;
  /** The image field whose top-level value comes next. */
  let pendingKey: string | undefined;
  let at = 0;
  for (;;) {
    const open = bytes.indexOf(QUOTE, at);
    const gapEnd = open < 0 ? bytes.length : open;
    for (let i = at; i < gapEnd; i++) {
      const byte = bytes[i]!;
      if (pendingKey !== undefined && byte !== COLON && !isWhitespace(byte)) {
        // The pending field's value is not a string (a number, an object, …): not an image to cut.
        lastValues.set(pendingKey, null);
        pendingKey = undefined;
      }
      if (byte === 0x7b || byte === 0x5b) depth++;
      else if (byte === 0x7d || byte === 0x5d) depth--;
    }
    if (open < 0) break;
    const close = closingQuote(bytes, open);
    if (close < 0) return undefined;
    const span = { start: open + 1, end: close };
    at = close + 1;
    if (depth !== 1) continue;
    if (nextToken(bytes, at) === COLON) {
      if (pendingKey !== undefined) lastValues.set(pendingKey, null);
      const key = keyText(bytes, span);
      if (key === undefined) return undefined;
      pendingKey = fields.includes(key) ? key : undefined;
      continue;
    }
    if (pendingKey !== undefined) lastValues.set(pendingKey, span.end - span.start >= MIN_CUT_LENGTH ? span : null);
    pendingKey = undefined;
  }

  const spans = [...lastValues].filter((entry): entry is [string, Span] => entry[1] !== null);
  if (spans.length === 0) return undefined;
  const images: CutBody['images'] = new Map();
  for (const [field, span] of spans) {
    const decoded = decodeSpan(bytes, span);
    if (decoded === undefined) return undefined;
    images.set(field, decoded);
  }
  spans.sort((a, b) => a[1].start - b[1].start);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const [, span] of spans) {
    parts.push(bytes.subarray(from, span.start));
    from = span.end;
  }
  parts.push(bytes.subarray(from));
  return { skeleton: Buffer.concat(parts), images };
}
