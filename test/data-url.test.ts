import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase64Image } from '../src/http/data-url.js';
import { seededRandom } from './helpers/random-vectors.js';

/** The definition the decoder's length check stands for: the standard alphabet, at most two trailing `=`. */
function strictReference(payload: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) return 'NOT_BASE64';
  const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  if ((padding > 0 && payload.length % 4 !== 0) || payload.length % 4 === 1) return 'NOT_BASE64';
  return Buffer.from(payload, 'base64').toString('hex');
}

describe('decodeBase64Image', () => {
  it('accepts exactly the strict base64 texts, and decodes them as Node does', () => {
    const random = seededRandom(3);
    // Valid digits, both paddings' worth of `=`, URL-safe digits, and characters Node's decoder skips or stops at.
    const alphabet = ['A', 'Q', 'g', 'w', '9', '+', '/', '=', '=', '-', '_', '!', '.', '\u00e9', '\u0000', '人', '@'];
    for (let k = 0; k < 50_000; k++) {
      let text = Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      text = random() < 0.5 ? `QUJD${text}` : `${text}QUJD`;
      const decoded = decodeBase64Image(text);
      assert.equal(decoded.ok ? decoded.bytes.toString('hex') : decoded.failure, strictReference(text), JSON.stringify(text));
    }
  });
});
