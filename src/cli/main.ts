/**
 * The `visage` command line: one module per sub-command under src/cli/, each exporting a commander
 * `Command`; this file only assembles them and turns a thrown error into a message and an exit code.
 */
import { Command } from 'commander';
import { CliError } from './cli-error.js';
import { doctorCommand } from './doctor.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { keysCommand } from './keys.js';
import { reembedCommand } from './reembed.js';
import { restoreCommand } from './restore.js';
import { migrateStoreCommand } from './migrate-store.js';
import { serveCommand } from './serve.js';

const program = new Command('visage')
  .description('Visage face recognition server: serve, and manage a face library from the shell')
  .showHelpAfterError()
  .addCommand(serveCommand())
  .addCommand(importCommand())
  .addCommand(exportCommand())
  .addCommand(restoreCommand())
  .addCommand(doctorCommand())
  .addCommand(keysCommand())
  .addCommand(reembedCommand())
  .addCommand(migrateStoreCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  // A CliError is the user's to fix (bad argument, unreachable server): its message, no stack trace.
  if (error instanceof CliError) console.error(`visage: ${error.message}`);
  else console.error('visage failed:', error);
  process.exitCode = error instanceof CliError ? error.exitCode : 1;
});
