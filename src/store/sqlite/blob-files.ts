/**
 * Originals and crops as files under the data directory. Names are random hex chosen here, never
 * derived from user input. Writes are durable before the database row that references them is
 * committed (temp file + fsync + rename + directory fsync); deletions happen after the commit. A crash
 * can therefore only leave unreferenced files or temp files, which the start-up check sweeps (`list`, `sweep`).
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PLAINTEXT, type BytesCodec } from '../at-rest-cipher.js';

export type BlobKind = 'originals' | 'crops';
export const BLOB_KINDS: readonly BlobKind[] = ['originals', 'crops'];

const BLOB_NAME = /^[0-9a-f]{32}$/;

const isMissing = (error: unknown): boolean =>
  error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';

/** What a listing of one kind found. */
export interface BlobListing {
  /** Blob names in their shard directories. */
  names: Set<string>;
  /** Every other path: temp files, entries that are not shard directories, names in the wrong shard. */
  others: string[];
}

export class BlobFiles {
  /** Shard directories made (or found) here: mkdir is a thread-pool round trip a write need not repeat. */
  private readonly madeDirectories = new Set<string>();

  constructor(
    private readonly root: string,
    /** Encryption at rest of the file contents, or plaintext. */
    private readonly codec: BytesCodec = PLAINTEXT,
  ) {}

  /** Fresh name; the first two hex digits shard the files into 256 sub-directories. */
  private static newName(): string {
    return randomBytes(16).toString('hex');
  }

  private path(kind: BlobKind, name: string): string {
    // Names come from our own rows; refuse anything else so a bad row can never address another path.
    if (!BLOB_NAME.test(name)) throw new Error(`invalid blob name ${JSON.stringify(name)}`);
    return join(this.root, kind, name.slice(0, 2), name);
  }

  /** Writes `bytes` durably under a new name and returns the name. */
  async write(kind: BlobKind, bytes: Uint8Array): Promise<string> {
    const name = BlobFiles.newName();
    const target = this.path(kind, name);
    const directory = join(this.root, kind, name.slice(0, 2));
    const temporary = `${target}.tmp`;
    const handle = await this.create(directory, temporary);
    try {
      await handle.writeFile(this.codec.seal(bytes));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
    await syncDirectory(directory);
    return name;
  }

  /** Opens a new file in `directory`, making the directory the first time (or again, if it was removed). */
  private async create(directory: string, path: string) {
    if (this.madeDirectories.has(directory)) {
      try {
        return await open(path, 'wx');
      } catch (error) {
        if (!isMissing(error)) throw error;
        this.madeDirectories.delete(directory);
      }
    }
    await mkdir(directory, { recursive: true });
    this.madeDirectories.add(directory);
    return open(path, 'wx');
  }

  /** The file's bytes, or undefined when it is gone (deleted by a concurrent commit). */
  async read(kind: BlobKind, name: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(this.codec.open(await readFile(this.path(kind, name))));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Best effort: a file that cannot be removed now is an orphan the next start-up sweep removes. */
  async remove(kind: BlobKind, names: readonly string[]): Promise<void> {
    for (const name of names) {
      try {
        await unlink(this.path(kind, name));
      } catch (error) {
        if (!isMissing(error)) console.warn(`visage: could not remove ${kind}/${name}: ${String(error)}`);
      }
    }
  }

  /** Whether the file is there now (a stat, not a read). */
  async exists(kind: BlobKind, name: string): Promise<boolean> {
    try {
      await access(this.path(kind, name));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /**
   * Removes unreferenced files: blob `names` under `kind`, and `paths` a listing found that no name accounts
   * for (temp files, strays). A path gone already is fine (`force`): a deletion may have unlinked it. Returns
   * how many it was given.
   */
  async sweep(kind: BlobKind, names: readonly string[], paths: readonly string[]): Promise<number> {
    for (const path of [...names.map((name) => this.path(kind, name)), ...paths]) await rm(path, { force: true, recursive: true });
    return names.length + paths.length;
  }

  /**
   * Read-only: one directory listing of `kind`, no stat per file. A blob name counts only in its own shard;
   * anything else (temp files, entries that are not shards, misplaced names) is a path in `others`.
   */
  async list(kind: BlobKind): Promise<BlobListing> {
    const base = join(this.root, kind);
    const names = new Set<string>();
    const others: string[] = [];
    const shards = await readdir(base, { withFileTypes: true }).catch((error: unknown) => {
      if (isMissing(error)) return [];
      throw error;
    });
    for (const shard of shards) {
      const shardPath = join(base, shard.name);
      if (!shard.isDirectory()) {
        others.push(shardPath);
        continue;
      }
      for (const entry of await readdir(shardPath)) {
        if (BLOB_NAME.test(entry) && entry.slice(0, 2) === shard.name) names.add(entry);
        else others.push(join(shardPath, entry));
      }
    }
    return { names, others };
  }
}

/** Makes the rename itself durable. Some platforms cannot open directories; the data is synced anyway. */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // not supported here (e.g. Windows); the file content was already fsynced
  } finally {
    await handle?.close();
  }
}
