/**
 * The overload guard (overload-guard.ts): its byte budget, and over a real socket, that a refused request's
 * connection is not read again for a while and that a client that sends everything before it reads still
 * gets every answer, and that the requests of a burst, refused or admitted, go on a few an event-loop turn.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { installOverloadGuard } from '../src/http/overload-guard.js';
import { burst, TurnCounter } from './helpers/burst.js';

const HOLD_MS = 600;

/** Raw HTTP/1.1 requests, written at once (pipelined), each with a body of `bodyBytes`. */
function pipelined(count: number, bodyBytes: number): Buffer {
  const body = Buffer.alloc(bodyBytes, 'A');
  const head = Buffer.from(`POST /api/face/detect HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${bodyBytes}\r\n\r\n`);
  return Buffer.concat(Array.from({ length: count }, () => [head, body]).flat());
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  atMs: number;
}

/** Sends `bytes` on one connection and collects each answer's status line and arrival time. */
function exchange(port: number, bytes: Buffer, expected: number): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const answers: Answer[] = [];
    let text = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      // Each answer is a head plus a Content-Length body; take whole ones off the front.
      for (;;) {
        const headEnd = text.indexOf('\r\n\r\n');
        if (headEnd < 0) break;
        const head = text.slice(0, headEnd);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (text.length < headEnd + 4 + length) break;
        answers.push({
          status: Number(head.split(' ')[1]),
          retryAfter: /retry-after: (\S+)/i.exec(head)?.[1],
          atMs: performance.now() - started,
        });
        text = text.slice(headEnd + 4 + length);
      }
      if (answers.length === expected) {
        socket.end();
        resolve(answers);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed after ${answers.length} of ${expected} answers`)));
  });
}

describe('overload guard', () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    app = Fastify();
    // No analysis may run: every one is refused.
    installOverloadGuard(app, { maxPending: 0, maxPendingBytes: 0, bodyLimit: 1024 * 1024, holdMs: HOLD_MS });
    app.post('/api/face/detect', async () => ({ code: 0 }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  after(async () => {
    await app.close();
  });

  it('does not read a refused connection again until about Retry-After has passed', async () => {
    const [first, second] = await exchange(port, pipelined(2, 256 * 1024), 2);
    assert.deepEqual([first!.status, first!.retryAfter, second!.status, second!.retryAfter], [503, '2', 503, '2']);
    // The hold lasts between half of HOLD_MS and all of it; without it the second answer follows at once.
    const gap = second!.atMs - first!.atMs;
    assert.ok(gap >= HOLD_MS / 2 - 20, `second refusal ${gap.toFixed(0)} ms after the first`);
  });

  it('answers a client that writes every body before it reads, without a reset', async () => {
    // 3 × 8 MB: more than the socket buffers hold, so the client's writes wait for the held connection.
    const answers = await exchange(port, pipelined(3, 8 * 1024 * 1024), 3);
    assert.deepEqual(answers.map((answer) => answer.status), [503, 503, 503]);
  });
});

describe('overload guard byte budget', () => {
  const BUDGET = 1_000_000;
  let app: FastifyInstance;
  let open: () => void = () => {};
  let gate = Promise.resolve();
  before(async () => {
    app = Fastify({ bodyLimit: 4 * 1024 * 1024 });
    installOverloadGuard(app, { maxPending: 10, maxPendingBytes: BUDGET, bodyLimit: 4 * 1024 * 1024 });
    // Each admitted request waits at the gate, so it stays pending.
    app.post('/api/face/detect', async () => {
      await gate;
      return { code: 0 };
    });
    await app.ready();
  });
  after(async () => {
    await app.close();
  });

  const post = (bytes: number) =>
    app.inject({ method: 'POST', url: '/api/face/detect', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ image: 'A'.repeat(bytes) }) });

  it('refuses a request whose body would take the pending bodies past the budget, and admits it once they are answered', async () => {
    gate = new Promise((resolve) => (open = resolve));
    const large = post(700_000);
    await new Promise((resolve) => setTimeout(resolve, 50)); // `large` is admitted and waits at the gate
    // Answered at once, not left waiting at the gate (which would mean it was admitted).
    const refused = await Promise.race([post(400_000), new Promise<undefined>((resolve) => setTimeout(resolve, 2000))]);
    assert.equal(refused?.statusCode, 503, 'the request over the budget was admitted');
    assert.equal(refused.headers['retry-after'], '2');
    const fits = post(200_000); // 700 kB + 200 kB: within the budget
    open();
    assert.deepEqual([(await large).statusCode, (await fits).statusCode], [200, 200]);
    assert.equal((await post(400_000)).statusCode, 200);
  });

  it('admits a body larger than the whole budget when nothing else is pending', async () => {
    gate = Promise.resolve();
    assert.equal((await post(2_000_000)).statusCode, 200);
  });
});

describe('overload guard under a burst', () => {
  const REQUESTS = 40;
  const body = JSON.stringify({ image: 'A'.repeat(1000) });
  const request = Buffer.from(
    `POST /api/face/detect HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );

  /**
   * Sends the burst to a server with the guard at `maxPending` and returns how many requests went on in each
   * event-loop turn: refusals counted when answered, admissions when their body parsing starts.
   */
  async function perTurn(maxPending: number): Promise<number[]> {
    const counter = new TurnCounter();
    const turns = new Map<number, number>();
    const count = async () => {
      turns.set(counter.turn, (turns.get(counter.turn) ?? 0) + 1);
    };
    const app = Fastify();
    installOverloadGuard(app, { maxPending, maxPendingBytes: maxPending * 1024 * 1024, bodyLimit: 1024 * 1024, holdMs: 0 });
    if (maxPending === 0) app.addHook('onSend', count);
    else app.addHook('preParsing', count);
    app.post('/api/face/detect', async () => ({ code: 0 }));
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      await burst((app.server.address() as { port: number }).port, Array.from({ length: REQUESTS }, () => request));
      return [...turns.values()];
    } finally {
      counter.stop();
      await app.close();
    }
  }

  it('answers the refusals of requests that arrived together over several turns, a few a turn', async () => {
    const turns = await perTurn(0);
    assert.equal(turns.reduce((sum, count) => sum + count, 0), REQUESTS);
    assert.ok(Math.max(...turns) <= 8, `${Math.max(...turns)} refusals answered in one turn`);
  });

  it('lets the admissions of requests that arrived together go on over several turns, a few a turn', async () => {
    const turns = await perTurn(REQUESTS);
    assert.equal(turns.reduce((sum, count) => sum + count, 0), REQUESTS);
    assert.ok(Math.max(...turns) <= 8, `${Math.max(...turns)} admitted requests started reading their bodies in one turn`);
  });
});
