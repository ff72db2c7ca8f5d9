#!/usr/bin/env node
// The `visage` command. Like `npm start` (`node --import tsx src/main.ts`), it runs the TypeScript sources
// through tsx: register tsx's loader in this process, then load the dispatcher.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The models belong to the installation, not to the directory the command is run from.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
process.env.VISAGE_MODELS ||= join(packageRoot, 'models');

register();
await import('../src/cli/main.ts');
