/** Entry point: configuration from the environment, listen, and shut down cleanly on SIGTERM/SIGINT. */
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { AtRestKeyError } from './store/at-rest-cipher.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  const { server } = app;
  server.log.info(
    { indexed: app.indexed.loaded, skippedOtherModel: app.indexed.skippedOtherModel, threads: config.threads },
    'search index loaded',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  const address = await server.listen({ port: config.port, host: config.host });
  server.log.info(`Visage listening on ${address}`);
}

main().catch((error: unknown) => {
  // A bad configuration is the operator's to fix: say what is wrong, without a stack trace.
  if (error instanceof ConfigError || error instanceof AtRestKeyError) console.error(error.message);
  else console.error('Visage failed to start:', error);
  process.exit(1);
});
