/**
 * Entry point: configuration from the environment, listen, and shut down gracefully on SIGTERM/SIGINT: stop
 * accepting, let in-flight requests finish (new ones get 503 NOT_READY), stop the workers, close the store,
 * exit 0. A shutdown that takes longer than VISAGE_SHUTDOWN_TIMEOUT, or a second signal, exits 1 (close-with-grace).
 */
import closeWithGrace from 'close-with-grace';
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

  closeWithGrace(
    {
      delay: config.shutdownTimeoutMs,
      logger: { error: (message: unknown) => server.log.error(message) },
    },
    // Also on an uncaught error (then the exit code is 1): requests in flight still get their answers.
    async ({ signal, err }) => {
      if (err) server.log.fatal({ err }, 'uncaught error');
      server.log.info({ signal }, 'shutting down: finishing in-flight requests');
      await app.close();
      server.log.info('shut down');
    },
  );

  const address = await server.listen({ port: config.port, host: config.host });
  server.log.info(`Visage listening on ${address}`);
}

main().catch((error: unknown) => {
  // A bad configuration is the operator's to fix: say what is wrong, without a stack trace.
  if (error instanceof ConfigError || error instanceof AtRestKeyError) console.error(error.message);
  else console.error('Visage failed to start:', error);
  process.exit(1);
});
