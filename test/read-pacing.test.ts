/**
 * Body read pacing (read-pacing.ts): past its budget in an event-loop turn a body waits for a later turn,
 * and over real sockets, bodies that arrive at once are read over several turns, whole and in order.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ReadPacer } from '../src/http/read-pacing.js';
import { burst, TurnCounter } from './helpers/burst.js';

const KB = 1024;

describe('read pacing', () => {
  it('pauses a body once the turn has read its budget, and resumes it in a later turn', async () => {
    const pacer = new ReadPacer(128 * KB);
    const body = new PassThrough();
    const seen: number[] = [];
    body.on('data', (chunk: Buffer) => {
      seen.push(chunk.length);
      pacer.chunkRead(body, chunk.length);
    });
    await nextTurn(); // a fresh turn
    for (let i = 0; i < 4; i++) body.write(Buffer.alloc(64 * KB));
    await new Promise(process.nextTick);
    assert.equal(seen.length, 2, 'two chunks of 64 kB spend a budget of 128 kB; the rest waits');
    assert.equal(body.isPaused(), true);
    await nextTurn();
    await nextTurn();
    assert.equal(seen.length, 4, 'the next turn reads on');
    body.end();
  });

  it('resumes paused bodies oldest first, as many a turn as the budget has chunks', async () => {
    const pacer = new ReadPacer(128 * KB);
    const order: string[] = [];
    const bodies = ['a', 'b', 'c', 'd'].map((name) => {
      const body = new PassThrough();
      body.on('data', (chunk: Buffer) => {
        order.push(name);
        pacer.chunkRead(body, chunk.length);
      });
      return body;
    });
    await nextTurn();
    // Each body sends two chunks in this turn: a's two spend the budget, so b, c and d stop at their first.
    for (const body of bodies) {
      body.write(Buffer.alloc(64 * KB));
      body.write(Buffer.alloc(64 * KB));
    }
    await new Promise(process.nextTick);
    assert.deepEqual(order, ['a', 'a', 'b', 'c', 'd']);
    assert.ok(bodies.every((body) => body.isPaused()));
    while (bodies.some((body) => body.isPaused())) await nextTurn();
    assert.deepEqual(order.slice(5), ['b', 'c', 'd'], 'their second chunks, oldest pause first');
    for (const body of bodies) body.end();
  });

  describe('over real sockets', () => {
    const BUDGET = 128 * KB;
    const BODIES = 4;
    const BODY_BYTES = 2 * 1024 * KB;
    let server: Server;
    let port: number;
    let counter: TurnCounter;
    /** Bytes of request bodies read in each turn, and each body's digest as read. */
    const perTurn = new Map<number, number>();
    const received: string[] = [];

    before(async () => {
      const pacer = new ReadPacer(BUDGET);
      counter = new TurnCounter();
      server = createServer((req, res) => {
        const hash = createHash('sha256');
        req.on('data', (chunk: Buffer) => {
          perTurn.set(counter.turn, (perTurn.get(counter.turn) ?? 0) + chunk.length);
          hash.update(chunk);
          pacer.chunkRead(req, chunk.length);
        });
        req.on('end', () => {
          received.push(hash.digest('hex'));
          res.end('ok');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    after(async () => {
      counter.stop();
      await new Promise((resolve) => server.close(resolve));
    });

    it('reads bodies sent at once over several turns, each whole', async () => {
      const requests = Array.from({ length: BODIES }, (_, i) =>
        Buffer.concat([
          Buffer.from(`POST / HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`),
          Buffer.alloc(BODY_BYTES, i + 1),
        ]),
      );
      await burst(port, requests);
      const expected = Array.from({ length: BODIES }, (_, i) => createHash('sha256').update(Buffer.alloc(BODY_BYTES, i + 1)).digest('hex')).sort();
      assert.deepEqual(received.sort(), expected);
      // A turn reads its budget, plus one socket read (64 kB) at most for each body it stops.
      const most = Math.max(...perTurn.values());
      assert.ok(most <= BUDGET + BODIES * 64 * KB, `${most} bytes of bodies read in one turn`);
    });
  });
});
