// Worker threads do not inherit the main thread's TypeScript loader (tsx's --import hook): register tsx in
// this thread, then load the TypeScript body thread.
import { register } from 'tsx/esm/api';

register();
await import('./body-worker.ts');
