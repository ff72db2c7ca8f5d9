// Worker threads do not inherit the main thread's TypeScript loader (tsx's --import hook), so the pool
// starts each worker here: register tsx in this thread, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./worker.ts');
export default worker.default;
