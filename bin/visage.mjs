#!/usr/bin/env node
// The `visage` command. Like `npm start` (`node --import tsx src/main.ts`), it runs the TypeScript sources
// through tsx: register tsx's loader in this process, then load the dispatcher.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// glibc reads its allocator settings once, at process start, so `visage serve` without them runs the server
// as a child that has them, as `npm start` and the Docker image do (README, Configuration: without them each
// decoded photo was mapped afresh, 3× the decode time). Set either variable yourself to opt out.
const MALLOC_SETTINGS = { MALLOC_MMAP_THRESHOLD_: '134217728', MALLOC_TRIM_THRESHOLD_: '536870912' };
const needsAllocatorSettings =
  process.platform === 'linux' &&
  process.argv[2] === 'serve' &&
  Object.keys(MALLOC_SETTINGS).every((name) => process.env[name] === undefined);

if (needsAllocatorSettings) {
  const server = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, ...MALLOC_SETTINGS },
  });
  // The server shuts down gracefully on these; this process only passes them on and waits.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => server.kill(signal));
  server.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  const { register } = await import('tsx/esm/api');
  // The models belong to the installation, not to the directory the command is run from.
  const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
  process.env.VISAGE_MODELS ||= join(packageRoot, 'models');
  register();
  await import('../src/cli/main.ts');
}
