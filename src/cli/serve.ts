/** `visage serve`: the server itself, exactly as `npm start` runs it (configuration from the environment). */
import { Command } from 'commander';

export function serveCommand(): Command {
  return new Command('serve')
    .description('start the HTTP server (configured by PORT, HOST, VISAGE_DATA, … as with `npm start`)')
    .action(async () => {
      // src/main.ts is the server's entry point; loading it starts the server and installs its signal handlers.
      await import('../main.js');
    });
}
