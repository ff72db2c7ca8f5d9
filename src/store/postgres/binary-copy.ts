/**
 * Rows of `COPY … TO STDOUT (FORMAT binary)`, parsed as they stream in: no hex or text encoding of bytea on
 * either side, which for the index's ~0.6 KB records costs more than reading them.
 * Format: PostgreSQL's documentation, "COPY, Binary Format" (signature, flags, header extension; per tuple an
 * int16 field count, then per field an int32 length, -1 for NULL, and that many bytes; an int16 -1 ends it).
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_BYTES = SIGNATURE.length + 8;

/** Where a row's fields lie in `buffer`: field k is bytes starts[k]..ends[k] (start -1: NULL). */
export interface BinaryRow {
  buffer: Buffer;
  starts: Int32Array;
  ends: Int32Array;
}

/**
 * Calls `onRow` for every row of the stream, each with `fields` fields, and yields after each chunk (so a
 * caller can hand on what the rows made before more is read). The row's view is reused, and its buffer is a
 * window on the stream: read what you need inside the call.
 */
export async function* readBinaryCopy(chunks: AsyncIterable<Buffer>, fields: number, onRow: (row: BinaryRow) => void): AsyncIterable<void> {
  const row: BinaryRow = { buffer: Buffer.alloc(0), starts: new Int32Array(fields), ends: new Int32Array(fields) };
  let rest: Buffer = Buffer.alloc(0);
  let headerRead = false;
  let ended = false;
  for await (const chunk of chunks) {
    const buffer: Buffer = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let at = 0;
    if (!headerRead) {
      if (buffer.length < HEADER_BYTES) {
        rest = buffer;
        continue;
      }
      if (!buffer.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
      at = HEADER_BYTES + buffer.readInt32BE(SIGNATURE.length + 4); // skips the header extension
      headerRead = true;
    }
    while (!ended && at + 2 <= buffer.length) {
      const count = buffer.readInt16BE(at);
      if (count === -1) {
        ended = true;
        at += 2;
        break;
      }
      if (count !== fields) throw new Error(`binary COPY row of ${count} fields, expected ${fields}`);
      let next = at + 2;
      let complete = true;
      for (let k = 0; k < fields; k++) {
        if (next + 4 > buffer.length) {
          complete = false;
          break;
        }
        const length = buffer.readInt32BE(next);
        next += 4;
        if (length === -1) {
          row.starts[k] = -1;
          row.ends[k] = -1;
          continue;
        }
        if (next + length > buffer.length) {
          complete = false;
          break;
        }
        row.starts[k] = next;
        row.ends[k] = next + length;
        next += length;
      }
      if (!complete) break;
      row.buffer = buffer;
      onRow(row);
      at = next;
    }
    rest = buffer.subarray(at);
    yield;
  }
  if (!ended) throw new Error('binary COPY stream ended early');
}
