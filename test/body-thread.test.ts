/**
 * Large bodies are parsed, and their images decoded, in the body thread (src/http/body-thread.ts), with the
 * same verdicts as on the event loop; the loop itself never parses or decodes a photo's text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseJsonBody } from '../src/http/body-parse.js';
import { BodyThread } from '../src/http/body-thread.js';
import { decodeBase64Image } from '../src/http/data-url.js';
import { DECODED_IMAGES, decodedPlaceholder, type DecodedImages } from '../src/http/decoded-images.js';
import { samplePhoto } from './helpers/images.js';
import { Code, startTestApp, type TestApp } from './helpers/http-app.js';

describe('BodyThread', () => {
  const thread = new BodyThread();
  after(() => thread.close());

  it('gives the verdict the loop gives, for bodies of every kind', async () => {
    const bodies = [
      '',
      '  \n',
      '\uFEFF{"groupId":"x"}',
      '{"groupId": "x", ',
      '[1, 2]',
      'null',
      '"text"',
      '{"nested":{"image":"AAAA"},"image":42}',
    ].map((text) => Buffer.from(text));
    bodies.push(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])); // {"a":"\xff"}: not UTF-8
    bodies.push(Buffer.from('{"name":"Zoë ✓","groupId":"x"}'));
    for (const body of bodies) {
      const expected = parseJsonBody(body);
      assert.deepEqual(await thread.parse([Buffer.from(body)]), expected, JSON.stringify(body.toString()));
      // In chunks as a socket delivers them, cut anywhere (inside a character too): joined in the thread.
      const cuts = [0, Math.floor(body.length / 3), Math.floor(body.length / 2) + 1, body.length];
      const chunks = cuts.slice(1).map((end, k) => Buffer.from(body.subarray(cuts[k], end)));
      assert.deepEqual(await thread.parse(chunks), expected, `in chunks: ${JSON.stringify(body.toString())}`);
    }
  });

  it('decodes the image fields beside the JSON, with the decoder\'s verdicts', async () => {
    const photo = samplePhoto(1);
    const text = `data:image/jpeg;base64,${photo.toString('base64')}`;
    const body = { image1: text, image2: '!!', image: '', groupId: 'g', imageMd5: decodedPlaceholder('image1') };
    const parsed = await thread.parse([Buffer.from(JSON.stringify(body))]);
    assert.ok(parsed.ok && parsed.value !== undefined);
    const value = parsed.value as Record<string, unknown> & { [DECODED_IMAGES]: DecodedImages };
    assert.deepEqual({ ...value }, { ...body, image1: decodedPlaceholder('image1'), image2: decodedPlaceholder('image2'), image: decodedPlaceholder('image') });
    const images = value[DECODED_IMAGES];
    assert.deepEqual(images.get(decodedPlaceholder('image1')), decodeBase64Image(text));
    assert.deepEqual(images.get(decodedPlaceholder('image2')), decodeBase64Image('!!'));
    assert.deepEqual(images.get(decodedPlaceholder('image')), { ok: false, failure: 'EMPTY' });
  });

  it('moves the decoded photos to the loop in memory of their own, not shared', async () => {
    // Shared memory is counted against no thread's heap: photos held there waited for a rare full collection.
    const photo = samplePhoto(1);
    for (const text of [`data:image/jpeg;base64,${photo.toString('base64')}`, photo.toString('base64').replace(/(.{76})/g, '$1\n')]) {
      const parsed = await thread.parse([Buffer.from(JSON.stringify({ image: text }))]);
      assert.ok(parsed.ok && parsed.value !== undefined);
      const decoded = (parsed.value as { [DECODED_IMAGES]: DecodedImages })[DECODED_IMAGES].get(decodedPlaceholder('image'));
      assert.ok(decoded?.ok);
      assert.ok(!(decoded.bytes.buffer instanceof SharedArrayBuffer), 'not in shared memory');
      assert.equal(decoded.bytes.byteLength, decoded.bytes.buffer.byteLength, 'a buffer of its own');
      assert.deepEqual(Buffer.from(decoded.bytes), photo);
    }
  });

  it('settles its replies one per event-loop turn, however many wait', async () => {
    await thread.parse([Buffer.from('{}')]); // the thread is up
    const seen: string[] = [];
    let turns = 0;
    // Re-armed from within each turn, so it fires once per turn: a marker between the turns' replies.
    const probe = () => {
      seen.push('turn');
      if (++turns < 12) setImmediate(probe);
    };
    const replies = [1, 2, 3, 4].map((n) => thread.parse([Buffer.from(`{"n":${n}}`)]).then(() => seen.push(`reply ${n}`)));
    // Busy meanwhile: the four replies all wait at the port when the loop comes back to it.
    const until = Date.now() + 300;
    while (Date.now() < until);
    setImmediate(probe);
    await Promise.all(replies);
    assert.deepEqual(seen.filter((entry) => entry.startsWith('reply')), ['reply 1', 'reply 2', 'reply 3', 'reply 4']);
    for (let k = 1; k < seen.length; k++) {
      assert.ok(!(seen[k]!.startsWith('reply') && seen[k - 1]!.startsWith('reply')), `two replies in one turn: ${seen.join(', ')}`);
    }
  });
});

describe('large bodies through the server', () => {
  let api: TestApp;
  before(async () => {
    api = await startTestApp();
  });
  after(() => api.close());

  it('never joins, parses or decodes a photo on the event loop, and answers as before', async () => {
    const photo = `data:image/jpeg;base64,${samplePhoto(1).toString('base64')}`;
    const parse = JSON.parse;
    const from = Buffer.from;
    const concat = Buffer.concat;
    const seen: string[] = [];
    Buffer.concat = ((list: readonly Uint8Array[], length?: number) => {
      const joined = concat(list, length);
      if (joined.length > 64 * 1024) seen.push(`joining ${joined.length} bytes`);
      return joined;
    }) as typeof Buffer.concat;
    JSON.parse = (text: string, reviver?: Parameters<typeof parse>[1]) => {
      if (text.length > 64 * 1024) seen.push(`JSON.parse of ${text.length}`);
      return parse(text, reviver) as unknown;
    };
    Buffer.from = ((value: unknown, ...rest: unknown[]) => {
      // (Inject itself turns the payload into bytes: UTF-8, not base64.)
      if (typeof value === 'string' && value.length > 64 * 1024 && rest[0] === 'base64') seen.push(`base64 decoding of ${value.length}`);
      return (from as (...args: unknown[]) => Buffer)(value, ...rest);
    }) as typeof Buffer.from;
    let replies;
    try {
      replies = await Promise.all([
        api.app.server.inject({ method: 'POST', url: '/api/face/compare', payload: JSON.stringify({ image1: photo, image2: photo }) }),
        api.app.server.inject({ method: 'POST', url: '/api/face/compare', payload: JSON.stringify({ image1: photo, image2: `${photo}!` }) }),
        api.app.server.inject({ method: 'POST', url: '/api/face/search', payload: `{"image":"${photo}",` }),
      ]);
    } finally {
      JSON.parse = parse;
      Buffer.from = from;
      Buffer.concat = concat;
    }
    assert.deepEqual(seen, []);
    const [same, broken, malformed] = replies.map((reply) => reply.json<{ code: number; msg: string; data: { compareScore?: number } }>());
    assert.equal(same!.code, 0);
    assert.ok(same!.data.compareScore! > 90, JSON.stringify(same));
    assert.deepEqual([broken!.code, broken!.msg], [Code.IMAGE_INVALID, 'IMAGE_INVALID:NOT_BASE64']);
    assert.deepEqual([malformed!.code, malformed!.msg], [Code.INVALID_PARAM, 'INVALID_PARAM:body']);
  });
});
