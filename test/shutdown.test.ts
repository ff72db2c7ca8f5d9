/**
 * The real server process (src/main.ts) under SIGTERM: a request in flight when the signal arrives is
 * answered, nothing new is taken, the process exits 0; its log is JSON lines carrying request ids.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { dataUrl, samplePhoto, toJpeg } from './helpers/images.js';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  [key: string]: unknown;
}

/** The child's stdout as parsed log lines, and a way to wait for one. */
class ServerLog {
  readonly lines: LogLine[] = [];
  readonly unparsed: string[] = [];
  private waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];

  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        this.unparsed.push(text);
        return;
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(line)) return true;
        waiter.resolve(line);
        return false;
      });
    });
  }

  waitFor(match: (line: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

function responseOf(pending: ReturnType<typeof request>): Promise<{ response: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    pending.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ response, body }));
    });
    pending.on('error', reject);
  });
}

describe('graceful shutdown of the server process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'visage-shutdown-'));
  let child: ChildProcess | undefined;
  after(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the request in flight at SIGTERM, refuses new ones, and exits 0', { timeout: 120_000 }, async () => {
    const server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', VISAGE_DATA: dataDir, VISAGE_THREADS: '1', VISAGE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = server;
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    const log = new ServerLog(server);

    const listening = await log.waitFor((line) => line.msg.startsWith('Visage listening on '));
    const port = Number(/:(\d+)$/.exec(listening.msg)![1]);

    // A compare whose body arrives in two halves, the signal in between: the request is surely in flight.
    const photo = dataUrl(await toJpeg(samplePhoto(1), 640));
    const body = Buffer.from(JSON.stringify({ image1: photo, image2: photo }));
    const slow = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/face/compare',
      headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-request-id': 'slow-1' },
    });
    const answered = responseOf(slow);
    slow.write(body.subarray(0, body.length / 2));
    await log.waitFor((line) => line.reqId === 'slow-1' && line.msg === 'incoming request');

    server.kill('SIGTERM');
    await log.waitFor((line) => line.msg.startsWith('shutting down'));

    // Nothing new is taken: the port is closed (or, on a connection that was already open, 503 NOT_READY).
    const late = request({ host: '127.0.0.1', port, method: 'GET', path: '/healthz' });
    late.end();
    await assert.rejects(responseOf(late), /ECONNREFUSED|ECONNRESET/);

    slow.end(body.subarray(body.length / 2));
    const { response, body: text } = await answered;
    assert.equal(response.statusCode, 200, text.slice(0, 300));
    assert.equal(response.headers['x-request-id'], 'slow-1');
    const reply = JSON.parse(text) as { code: number; data: { compareScore: number } };
    assert.equal(reply.code, 0);
    assert.equal(reply.data.compareScore, 100);

    assert.equal(await exited, 0);
    child = undefined;

    // Structured logs: every line JSON, the request's lines carry its id, and the shutdown is logged.
    assert.deepEqual(log.unparsed, []);
    const completed = log.lines.find((line) => line.reqId === 'slow-1' && line.msg === 'request completed');
    assert.ok(completed, 'no completion line for the slow request');
    assert.ok(log.lines.some((line) => line.msg === 'shut down'));
  });
});
