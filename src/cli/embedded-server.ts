/**
 * `--embedded`: the whole server in this process, on a private loopback port, so the CLI's HTTP code path
 * is the only one. For a data directory no running server uses: a server beside it would not see the new
 * faces in its in-memory index.
 */
import { createApp } from '../app.js';
import { loadCliConfig } from './cli-config.js';

export interface EmbeddedServer {
  url: string;
  close(): Promise<void>;
}

export async function startEmbeddedServer(): Promise<EmbeddedServer> {
  const app = await createApp({ ...loadCliConfig(), logLevel: 'warn' });
  try {
    const url = await app.server.listen({ host: '127.0.0.1', port: 0 });
    return { url, close: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  }
}
