/**
 * The body thread's fast path (src/http/image-cuts.ts): photos cut out of the body's bytes must give exactly
 * what parsing the whole body and decoding its image fields gives, and the path must be taken for the bodies
 * clients really send.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonBody } from '../src/http/body-parse.js';
import { readLargeBody } from '../src/http/body-worker.js';
import { decodeBase64Image } from '../src/http/data-url.js';
import { decodedPlaceholder, IMAGE_FIELDS } from '../src/http/decoded-images.js';
import { cutImageFields } from '../src/http/image-cuts.js';
import { samplePhoto } from './helpers/images.js';

/** The ordinary path: the whole body parsed as JSON, then each top-level image field decoded. */
function ordinaryRead(bytes: Uint8Array) {
  const parsed = parseJsonBody(bytes);
  const images: Array<{ field: string; bytes: Uint8Array } | { field: string; failure: string }> = [];
  if (!parsed.ok || parsed.value === undefined) return { parsed, images };
  const body = parsed.value as Record<string, unknown>;
  for (const field of IMAGE_FIELDS) {
    const text = body[field];
    if (typeof text !== 'string') continue;
    const decoded = decodeBase64Image(text);
    body[field] = decodedPlaceholder(field);
    images.push(decoded.ok ? { field, bytes: new Uint8Array(decoded.bytes) } : { field, failure: decoded.failure });
  }
  return { parsed, images };
}

function fastRead(bytes: Uint8Array) {
  const { parsed, images } = readLargeBody(bytes);
  return { parsed, images: images.map((image) => ('bytes' in image ? { field: image.field, bytes: new Uint8Array(image.bytes) } : image)) };
}

const photo = samplePhoto(1);
const base64 = photo.toString('base64');
const url = `data:image/jpeg;base64,${base64}`;
const utf8 = (text: string) => Buffer.from(text, 'utf8');

describe('cutting photos out of a body', () => {
  it('decodes the photos of the bodies clients send, and leaves the rest to parse', () => {
    for (const body of [
      JSON.stringify({ image1: url, image2: base64 }),
      JSON.stringify({ imageMd5: 'abc', image: url, name: 'Ann', groupIds: ['a', 'b'] }),
      `\uFEFF { "image" : "${url}" , "topN": 5 }`,
      `{"image\\u0031":"${url}"}`, // an escaped key is still the field
      `{"image":"${base64.slice(0, 4000)} ${base64.slice(4000)}"}`, // a space, which the decoder skips
    ]) {
      const cut = cutImageFields(utf8(body), IMAGE_FIELDS);
      assert.ok(cut, body.slice(0, 60));
      assert.ok(cut.skeleton.length < 200, `skeleton of ${cut.skeleton.length} bytes`);
      for (const image of cut.images.values()) assert.deepEqual(Buffer.from(image.bytes), photo);
      assert.deepEqual(fastRead(utf8(body)), ordinaryRead(utf8(body)));
    }
  });

  it('decodes canonical base64 from the bytes exactly as the text decoder does, padding and all', () => {
    for (const length of [6000, 6001, 6002]) {
      const part = photo.subarray(0, length);
      const text = part.toString('base64');
      for (const body of [
        `{"image":"${text}"}`,
        `{"image":"DATA:image/png;charset=x;base64,${text}"}`,
        `{"image":" ${text}"}`, // leading space: trimmed by the text decoder
        `{"image":"${text.slice(0, -4)}${text.slice(-4).replace(/[A-Za-z0-9+/]=/, (pair) => `${pair[0] === 'A' ? 'B' : 'A'}=`)}"}`, // other final bits
        `{"image":"${text.slice(0, 4000)}=${text.slice(4001)}"}`, // padding inside
        `{"image":"${text.slice(0, -1)}"}`, // padding missing
      ]) {
        assert.deepEqual(fastRead(utf8(body)), ordinaryRead(utf8(body)), `${length}: ${body.slice(0, 50)}…${body.slice(-8)}`);
      }
      const decoded = cutImageFields(utf8(`{"image":"${text}"}`), IMAGE_FIELDS)?.images.get('image');
      assert.deepEqual(decoded && Buffer.from(decoded.bytes), part);
    }
  });

  it('gives the ordinary verdict for hundreds of bodies broken one byte at a time', () => {
    const small = photo.subarray(0, 6000).toString('base64');
    const body = utf8(JSON.stringify({ imageMd5: 'x', image1: `data:image/jpeg;base64,${small}`, image2: small, name: 'n' }));
    // A small deterministic generator: the same mutants every run.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const bytes = [0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x20, 0x0a, 0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xff, 0x3d, 0x2d, 0x5f, 0x41, 0x2f];
    let cut = 0;
    for (let k = 0; k < 400; k++) {
      // Half the edits near the structure and headers (the first 60 bytes, the last 30), half anywhere.
      const at = k % 2 === 0 ? (next(2) === 0 ? next(60) : body.length - 1 - next(30)) : next(body.length);
      const byte = bytes[next(bytes.length)]!;
      const mutant = next(2) === 0
        ? Buffer.concat([body.subarray(0, at), Buffer.from([byte]), body.subarray(at)])
        : Buffer.concat([body.subarray(0, at), Buffer.from([byte]), body.subarray(at + 1)]);
      if (cutImageFields(mutant, IMAGE_FIELDS) !== undefined) cut++;
      assert.deepEqual(fastRead(mutant), ordinaryRead(mutant), `edit ${k}: byte ${byte} at ${at}`);
    }
    assert.ok(cut > 100, `the shortcut was taken for ${cut} of 400 mutants`);
  });

  it('leaves to the ordinary path what it might read differently, with the same verdicts', () => {
    const bodies: Array<[string, Uint8Array]> = [
      ['escaped slashes', utf8(`{"image":"${url.replace(/\//g, '\\/')}"}`)],
      ['a raw newline (not JSON)', utf8(`{"image":"${base64.slice(0, 5000)}\n${base64.slice(5000)}"}`)],
      ['a raw control character in the header (not JSON)', utf8(`{"image":"data:image/jp\u0001eg;base64,${base64}"}`)],
      ['not base64', utf8(`{"image1":"${url}","image2":"${base64}!"}`)],
      ['too large', utf8(`{"image":"${base64.repeat(8)}"}`)],
      ['a later short value wins', utf8(`{"image":"${url}","image":"AAAA"}`)],
      ['a later number wins', utf8(`{"image":"${url}","image":5}`)],
      ['nested', utf8(`{"nested":{"image":"${url}"},"image":"${url}"}`)],
      ['an array', utf8(`["${url}","${url}"]`)],
      ['unterminated', utf8(`{"image":"${url}`)],
      ['malformed after the photo', utf8(`{"image":"${url}",}`)],
    ];
    // Not UTF-8 (a lone continuation byte) in the header, and in a key.
    const header = utf8(`{"image":"data:image/jpeg;base64,${base64}"}`);
    header[15] = 0x85;
    bodies.push(['not UTF-8 in the header', header]);
    const key = utf8(`{"imag\u00e9":"x","image":"${url}"}`);
    key[6] = 0xff;
    bodies.push(['not UTF-8 in a key', key]);
    for (const [name, body] of bodies) {
      assert.deepEqual(fastRead(body), ordinaryRead(body), name);
    }
    assert.equal(cutImageFields(bodies[0]![1], IMAGE_FIELDS), undefined, 'escaped slashes are not cut');
    assert.equal(cutImageFields(bodies[3]![1], IMAGE_FIELDS), undefined, 'text that is not base64 is not cut');
    const nested = cutImageFields(bodies[7]![1], IMAGE_FIELDS);
    assert.ok(nested);
    assert.equal((JSON.parse(Buffer.from(nested.skeleton).toString()) as { nested: { image: string } }).nested.image, url, 'only the top-level field is cut');
  });
});
