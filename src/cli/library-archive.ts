/**
 * The library archive of `visage export` / `visage restore`: a plain tar (gzipped when the file name ends in
 * .gz or .tgz), written and read in one pass, entries in this order:
 *
 *   visage-library.json           {"format": "visage-library", "version": 1, "createdAt": ISO time}
 *   groups.json                   every group: [{groupId, groupName, groupType, groupScore}], `default` first
 *   images/<n>/image.json         n = 1, 2, … (8 digits): {imageId, description, format, sha256, faces: [{id,
 *                                 faceToken, name, gender, rect, modelId, groupIds, embedding, cropSha256}]};
 *                                 embedding = base64 of the float32 values, little-endian; sha256 and cropSha256
 *                                 = hex SHA-256 of the original and of the crop (tar checks only its headers,
 *                                 so a damaged byte inside an entry is found by these; optional when reading,
 *                                 archives written before them have none)
 *   images/<n>/original.<format>  the image as uploaded
 *   images/<n>/face-<k>.jpg       the crop of faces[k], k = 0, 1, …
 *   end.json                      {"images": count, "faces": count}: a missing one means a truncated archive
 *
 * Everything the store holds is there (faceless images too: their imageId stays taken), so a restore needs
 * no re-enrolment and reproduces identical embeddings, hence identical scores.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { extract, pack, type Pack } from 'tar-stream';
import { z } from 'zod';
import type { GroupRecord, ImageRecord } from '../store/store.js';
import type { ImageFormat, Rect } from '../vision/types.js';
import { CliError } from './cli-error.js';

export const ARCHIVE_FORMAT = 'visage-library';
export const ARCHIVE_VERSION = 1;

export interface ArchivedFace {
  id: number;
  faceToken: string;
  name: string;
  gender: string;
  rect: Rect;
  modelId: string;
  groupIds: string[];
  embedding: Float32Array;
  crop: Uint8Array;
}

export interface ArchivedImage extends Omit<ImageRecord, 'faceTokens'> {
  faces: ArchivedFace[];
}

export interface ArchiveCounts {
  images: number;
  faces: number;
}

// ---- on-disk shapes (validated on read, so a damaged archive stops the restore before it writes) ----

const headerJson = z.object({ format: z.literal(ARCHIVE_FORMAT), version: z.literal(ARCHIVE_VERSION), createdAt: z.string() });
const groupsJson = z.array(
  z.object({ groupId: z.string().min(1), groupName: z.string(), groupType: z.string(), groupScore: z.number().int().min(0).max(100) }),
);
const sha256Json = z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256');
const faceJson = z.object({
  id: z.number().int().positive(),
  faceToken: z.string().min(1),
  name: z.string(),
  gender: z.string(),
  rect: z.object({ left: z.number(), top: z.number(), right: z.number(), bottom: z.number() }),
  modelId: z.string().min(1),
  groupIds: z.array(z.string()),
  embedding: z.string().base64(),
  cropSha256: sha256Json.optional(),
});
const imageJson = z.object({
  imageId: z.string().min(1),
  description: z.string(),
  format: z.enum(['jpeg', 'png', 'bmp', 'webp']),
  sha256: sha256Json.optional(),
  faces: z.array(faceJson),
});
const countsJson = z.object({ images: z.number().int().min(0), faces: z.number().int().min(0) });

function encodeEmbedding(embedding: Float32Array): string {
  const bytes = Buffer.alloc(embedding.length * 4);
  embedding.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}

function decodeEmbedding(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length % 4 !== 0) throw new Error('embedding is not a whole number of float32 values');
  const embedding = new Float32Array(bytes.length / 4);
  for (let index = 0; index < embedding.length; index++) embedding[index] = bytes.readFloatLE(index * 4);
  return embedding;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const isGzipName = (file: string) => /\.(t?gz)$/i.test(file);
const imageDir = (sequence: number) => `images/${String(sequence).padStart(8, '0')}`;
const json = (value: unknown) => Buffer.from(`${JSON.stringify(value)}\n`);

/** Writes an archive to `file` (through a temporary name, so an interrupted export leaves no archive). */
export class ArchiveWriter {
  private readonly tar: Pack = pack();
  private readonly done: Promise<void>;
  private readonly counts: ArchiveCounts = { images: 0, faces: 0 };
  private readonly temporary: string;

  private constructor(private readonly file: string) {
    this.temporary = `${file}.partial`;
    const out = createWriteStream(this.temporary);
    this.done = isGzipName(file) ? pipeline(this.tar, createGzip(), out) : pipeline(this.tar, out);
  }

  static async create(file: string, groups: readonly GroupRecord[]): Promise<ArchiveWriter> {
    const writer = new ArchiveWriter(file);
    await writer.entry('visage-library.json', json({ format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, createdAt: new Date().toISOString() }));
    await writer.entry('groups.json', json(groups.map(({ groupId, groupName, groupType, groupScore }) => ({ groupId, groupName, groupType, groupScore }))));
    return writer;
  }

  async addImage(image: ArchivedImage): Promise<void> {
    const dir = imageDir(++this.counts.images);
    const faces = image.faces.map(({ crop, embedding, ...face }) => ({
      ...face,
      embedding: encodeEmbedding(embedding),
      cropSha256: sha256(crop),
    }));
    const { imageId, description, format, bytes } = image;
    await this.entry(`${dir}/image.json`, json({ imageId, description, format, sha256: sha256(bytes), faces }));
    await this.entry(`${dir}/original.${image.format}`, image.bytes);
    for (const [index, face] of image.faces.entries()) await this.entry(`${dir}/face-${index}.jpg`, face.crop);
    this.counts.faces += image.faces.length;
  }

  /** Writes end.json, flushes, and moves the archive to its name. */
  async finish(): Promise<ArchiveCounts> {
    await this.entry('end.json', json(this.counts));
    this.tar.finalize();
    await this.done;
    await rename(this.temporary, this.file);
    return this.counts;
  }

  async abandon(): Promise<void> {
    this.tar.destroy();
    await this.done.catch(() => undefined);
    await rm(this.temporary, { force: true });
  }

  private entry(name: string, bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.tar.entry({ name, size: bytes.byteLength, mode: 0o644, mtime: new Date() }, Buffer.from(bytes), (error) =>
        error ? reject(error) : resolve(),
      );
    });
  }
}

export interface ArchiveContents {
  groups: GroupRecord[];
  images: AsyncIterable<ArchivedImage>;
}

/**
 * Reads an archive. `images` yields each image once it and its crops are read; the iteration throws a
 * CliError on anything out of place, including a missing end.json (truncated file) or wrong counts.
 */
export async function readArchive(file: string): Promise<ArchiveContents> {
  const entries = openEntries(file);
  const next = async (): Promise<{ name: string; bytes: Buffer } | undefined> => {
    const result = await entries.next();
    return result.done ? undefined : result.value;
  };
  const expect = async (name: string): Promise<Buffer> => {
    const entry = await next();
    if (entry?.name !== name) throw damaged(file, `expected ${name}, found ${entry?.name ?? 'the end of the file'}`);
    return entry.bytes;
  };
  const parse = <T>(schema: z.ZodType<T>, bytes: Buffer, name: string): T => {
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw damaged(file, `${name} is not JSON`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw damaged(file, `${name}: ${parsed.error.issues[0]?.message ?? 'invalid'} at ${parsed.error.issues[0]?.path.join('.')}`);
    return parsed.data;
  };

  let header: Buffer;
  try {
    header = await expect('visage-library.json');
  } catch (error) {
    if (error instanceof CliError) throw new CliError(`${file} is not a Visage library archive (${error.message})`);
    throw error;
  }
  parse(headerJson, header, 'visage-library.json');
  const groups = parse(groupsJson, await expect('groups.json'), 'groups.json');

  async function* images(): AsyncGenerator<ArchivedImage> {
    const counts: ArchiveCounts = { images: 0, faces: 0 };
    for (;;) {
      const entry = await next();
      if (entry === undefined) throw damaged(file, 'end.json is missing: the archive is truncated');
      if (entry.name === 'end.json') {
        const declared = parse(countsJson, entry.bytes, 'end.json');
        if (declared.images !== counts.images || declared.faces !== counts.faces) {
          throw damaged(file, `end.json declares ${declared.images} images / ${declared.faces} faces, read ${counts.images} / ${counts.faces}`);
        }
        if ((await next()) !== undefined) throw damaged(file, 'entries after end.json');
        return;
      }
      const dir = imageDir(++counts.images);
      if (entry.name !== `${dir}/image.json`) throw damaged(file, `expected ${dir}/image.json, found ${entry.name}`);
      const meta = parse(imageJson, entry.bytes, entry.name);
      const checked = async (name: string, digest: string | undefined): Promise<Buffer> => {
        const bytes = await expect(name);
        if (digest !== undefined && sha256(bytes) !== digest) throw damaged(file, `${name} does not match its SHA-256 in ${entry.name}`);
        return bytes;
      };
      const bytes = await checked(`${dir}/original.${meta.format}`, meta.sha256);
      const faces: ArchivedFace[] = [];
      for (const [index, { cropSha256, ...face }] of meta.faces.entries()) {
        faces.push({ ...face, embedding: decodeEmbedding(face.embedding), crop: await checked(`${dir}/face-${index}.jpg`, cropSha256) });
      }
      counts.faces += faces.length;
      yield { imageId: meta.imageId, description: meta.description, format: meta.format as ImageFormat, bytes, faces };
    }
  }
  return { groups, images: images() };
}

const damaged = (file: string, detail: string) => new CliError(`${file} is damaged: ${detail}`);

/** The archive's file entries with their bytes, gunzipped when the file starts with the gzip magic. */
async function* openEntries(file: string): AsyncGenerator<{ name: string; bytes: Buffer }> {
  const handle = await open(file, 'r').catch(() => {
    throw new CliError(`cannot read ${file}`);
  });
  const magic = Buffer.alloc(2);
  await handle.read(magic, 0, 2, 0);
  await handle.close();
  const tar = extract();
  const source = createReadStream(file);
  const feeding = (magic[0] === 0x1f && magic[1] === 0x8b ? pipeline(source, createGunzip(), tar) : pipeline(source, tar)).catch(
    (error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error))),
  );
  try {
    for await (const entry of tar) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      if (entry.header.type === 'file') yield { name: entry.header.name, bytes: Buffer.concat(chunks) };
    }
  } catch (error) {
    throw damaged(file, error instanceof Error ? error.message : String(error));
  } finally {
    source.destroy();
    await feeding;
  }
}
