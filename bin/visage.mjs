#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=16777216 MALLOC_TRIM_THRESHOLD_=536870912 node --initial-old-space-size=64
// The `visage` command. Like `npm start` (`node --import tsx src/main.ts`), it runs the TypeScript sources
// through tsx: register tsx's loader in this process, then load the dispatcher. The first line sets glibc's
// allocator thresholds and the event loop's heap floor as `npm start` does (README, Configuration): glibc and
// V8 read them only when a process starts, and `env -S` (GNU coreutils 8.30+, BSD) passes them to node itself,
// with no launcher process that could die and leave the server orphaned. `node bin/visage.mjs` skips that
// line; `visage doctor` says so.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The models belong to the installation, not to the directory the command is run from.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
process.env.VISAGE_MODELS ||= join(packageRoot, 'models');

register();
await import('../src/cli/main.ts');
