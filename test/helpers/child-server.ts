/**
 * The server as a child process (`node --import tsx src/main.ts`) on a free loopback port, for tests and
 * benches that must kill it, restart it, or measure its memory apart from the client's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const REPOSITORY = new URL('../..', import.meta.url).pathname;

export interface ChildServer {
  url: string;
  pid: number;
  /** Faces loaded into the search index at start (from its start-up log). */
  indexed: number;
  child: ChildProcess;
  exited: Promise<void>;
}

/** Starts the server with `environment` added to this process's and waits for its "listening" log line. */
export async function startChildServer(environment: Record<string, string>): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPOSITORY,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', VISAGE_LOG_LEVEL: 'info', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let indexed = -1;
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let entry: { msg?: unknown; indexed?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (typeof entry.indexed === 'number') indexed = entry.indexed;
      const listening = /^Visage listening on (\S+)$/.exec(String(entry.msg ?? ''));
      if (listening) resolve(listening[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${String(code)}: ${stderr.slice(-2000)}`)));
  });
  return { url, pid: child.pid!, indexed, child, exited };
}
