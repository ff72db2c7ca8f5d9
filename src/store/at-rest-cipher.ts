/**
 * Encryption at rest of the biometric payload (embeddings, originals, crops) with AES-256-GCM and a key
 * from the environment (VISAGE_ENCRYPTION_KEY). Each sealed value is `VSE1 | iv (12) | tag (16) | data`:
 * a fresh random IV per value, and the tag makes a wrong key or a tampered file fail loudly instead of
 * yielding garbage. Driver-independent, so every Store implementation seals the same way.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const MAGIC = Buffer.from('VSE1', 'ascii');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + IV_BYTES + TAG_BYTES;
const KEY_BYTES = 32;

/** The key cannot open this value: another key sealed it, or it was altered. */
export class AtRestKeyError extends Error {
  constructor(message = 'stored data cannot be decrypted with VISAGE_ENCRYPTION_KEY (wrong key, or the data was altered)') {
    super(message);
    this.name = 'AtRestKeyError';
  }
}

/** 64 hex digits or base64 of 32 bytes; undefined when the text is neither. */
export function parseEncryptionKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
  }
  return undefined;
}

export class AtRestCipher {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new Error(`an AES-256 key has ${KEY_BYTES} bytes, not ${key.length}`);
    this.key = Buffer.from(key);
  }

  seal(plain: Uint8Array): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([MAGIC, iv, cipher.getAuthTag(), data]);
  }

  open(sealed: Uint8Array): Buffer {
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new AtRestKeyError('stored data is not encrypted although VISAGE_ENCRYPTION_KEY is set');
    }
    const iv = bytes.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
    const tag = bytes.subarray(MAGIC.length + IV_BYTES, HEADER_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES)), decipher.final()]);
    } catch {
      throw new AtRestKeyError();
    }
  }
}

/** Plaintext passthrough when no key is configured, so callers need not branch. */
export interface BytesCodec {
  seal(plain: Uint8Array): Uint8Array;
  open(stored: Uint8Array): Uint8Array;
}

export const PLAINTEXT: BytesCodec = { seal: (plain) => plain, open: (stored) => stored };
