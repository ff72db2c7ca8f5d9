/**
 * Importing one photo through the public API, resumably. The imageId is api.md's computed one (md5 of the
 * bytes), so it is known before anything is sent: a photo whose imageId is registered already is skipped
 * (and its faces are bound to the target group, which finishes a run stopped between the two calls); a new
 * one is registered (1.1, imageMd5 empty so the server derives the same id) and then bound (2.5).
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ErrorCode } from '../errors.js';
import { DEFAULT_GROUP_ID } from '../store/store.js';
import { imageIdFor } from '../library/ids.js';
import { ApiRefusal, type ApiClient } from './api-client.js';
import type { ImportOutcome } from './import-summary.js';

export interface PhotoImportOptions {
  root: string;
  groupId: string;
  /** Name each face after the folder holding its photo. */
  nameFromFolder: boolean;
}

/** api.md field limits, in UTF-8 bytes. */
const MAX_DESCRIPTION_BYTES = 255;
const MAX_NAME_BYTES = 128;

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let result = '';
  let bytes = 0;
  for (const character of text) {
    bytes += Buffer.byteLength(character, 'utf8');
    if (bytes > maxBytes) break;
    result += character;
  }
  return result;
}

export class PhotoImporter {
  /** imageIds met in this run, to tell a duplicate file from an earlier run's import. */
  private readonly seen = new Set<string>();
  /**
   * Files are read and their imageIds claimed one at a time, in the order import() is called: of two copies
   * of a photo the first listed is the one imported, however the reads of concurrent imports interleave.
   */
  private reads: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly api: ApiClient,
    private readonly options: PhotoImportOptions,
  ) {}

  /** The file's bytes and imageId, or its outcome when it is unreadable or a copy of one met earlier. */
  private async readAndClaim(relativePath: string): Promise<{ bytes: Buffer; imageId: string } | ImportOutcome> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.options.root, relativePath));
    } catch (error) {
      return { kind: 'refused', reason: `UNREADABLE:${(error as NodeJS.ErrnoException).code ?? 'ERROR'}`, code: null };
    }
    const imageId = imageIdFor('', bytes);
    if (this.seen.has(imageId)) return { kind: 'duplicate' };
    this.seen.add(imageId);
    return { bytes, imageId };
  }

  async import(relativePath: string): Promise<ImportOutcome> {
    const read = this.reads.then(() => this.readAndClaim(relativePath));
    this.reads = read;
    const claimed = await read;
    if (!('bytes' in claimed)) return claimed;
    const { bytes, imageId } = claimed;
    try {
      const existing = await this.findImage(imageId);
      if (existing) {
        for (const faceToken of existing) await this.bindToGroup(faceToken);
        return { kind: 'skipped' };
      }
      const registered = await this.api.registerFace({
        image: bytes.toString('base64'),
        description: truncateUtf8(relativePath, MAX_DESCRIPTION_BYTES),
        imageMd5: '',
        name: this.options.nameFromFolder ? truncateUtf8(folderName(relativePath), MAX_NAME_BYTES) : '',
        gender: '',
      });
      await this.bindToGroup(registered.faceToken);
      return { kind: 'imported' };
    } catch (error) {
      if (!(error instanceof ApiRefusal)) throw error;
      // Registered meanwhile by a concurrent request with the same bytes.
      if (error.code === ErrorCode.FACE_ALREADY_EXIST) return { kind: 'duplicate' };
      return { kind: 'refused', reason: error.msg, code: error.code };
    }
  }

  /** The face tokens of a registered image, or undefined when the imageId is free. */
  private async findImage(imageId: string): Promise<string[] | undefined> {
    try {
      return (await this.api.getImage(imageId)).faceToken;
    } catch (error) {
      if (error instanceof ApiRefusal && error.code === ErrorCode.IMAGE_ID_NOT_EXIST) return undefined;
      throw error;
    }
  }

  private async bindToGroup(faceToken: string): Promise<void> {
    // Registration binds to `default` already.
    if (this.options.groupId !== DEFAULT_GROUP_ID) await this.api.bind(faceToken, [this.options.groupId]);
  }
}

/** The photo's folder name ('' for a photo directly in the root). */
function folderName(relativePath: string): string {
  const folder = posix.dirname(relativePath);
  return folder === '.' ? '' : posix.basename(folder);
}
