/** Looking at a data directory from outside: every file with its digest, and byte searches through all of it. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

function filesUnder(root: string, directory = root): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...filesUnder(root, path));
    else files.push(relative(root, path));
  }
  return files.sort();
}

/**
 * Relative path → sha256 of every file, the SQLite database and its WAL included. The `-shm` file is left out:
 * it is SQLite's shared-memory index of the WAL, rewritten by readers too, and holds no data.
 */
export function snapshotDataDir(dataDir: string): Map<string, string> {
  const digests = new Map<string, string>();
  for (const file of filesUnder(dataDir)) {
    if (file.endsWith('-shm')) continue;
    digests.set(file, createHash('sha256').update(readFileSync(join(dataDir, file))).digest('hex'));
  }
  return digests;
}

/** The files under `originals/` and `crops/`, as "kind/shard/name". */
export function blobFiles(dataDir: string): string[] {
  return filesUnder(dataDir).filter((file) => /^(originals|crops)\//.test(file));
}

/** Files of the data directory whose bytes contain `needle` (database, WAL and image files alike). */
export function filesContaining(dataDir: string, needle: Buffer): string[] {
  return filesUnder(dataDir).filter((file) => readFileSync(join(dataDir, file)).includes(needle));
}
