// Worker threads do not inherit the main thread's TypeScript loader (tsx's --import hook): register tsx in
// this thread, then load the TypeScript scan thread.
import { register } from 'tsx/esm/api';

register();
await import('./scan-worker.ts');
