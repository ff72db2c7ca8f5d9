/**
 * `visage migrate-store --from sqlite:./data --to postgres://…`: moves a library to another store without
 * re-enrolling anyone (see src/store/copy-library.ts). Stop writing to the source first (or stop its
 * server): what is registered there during the copy may be missed. Re-running finishes an interrupted copy.
 */
import { Command, InvalidArgumentError } from 'commander';
import { copyLibrary, type CopyReport } from '../store/copy-library.js';
import { describeStoreLocation, parseStoreLocation, type StoreLocation } from '../store/location.js';
import { openStore } from '../store/open-store.js';
import { DEFAULT_GROUP_LIMIT } from '../store/store.js';
import { CliError } from './cli-error.js';

export interface MigrateStoreIo {
  print(line: string): void;
}

const DEFAULT_IO: MigrateStoreIo = { print: (line) => console.log(line) };

function location(text: string): StoreLocation {
  try {
    return parseStoreLocation(text);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

const summary = (report: Readonly<CopyReport>): string =>
  `${report.images} image(s) with ${report.faces} face(s) copied, ${report.skippedImages} already there; ` +
  `${report.groups} group(s), ${report.apiKeys} API key(s), ${report.auditEntries} audit entries`;

export function migrateStoreCommand(io: MigrateStoreIo = DEFAULT_IO): Command {
  return new Command('migrate-store')
    .description('copy a whole library (groups, images, faces with their embeddings, keys, audit log) to another store')
    .requiredOption('--from <location>', 'source: sqlite:DIRECTORY or postgres://user:password@host:port/database', location)
    .requiredOption('--to <location>', 'target, same forms', location)
    .action(async (options: { from: StoreLocation; to: StoreLocation }) => {
      const from = describeStoreLocation(options.from);
      const to = describeStoreLocation(options.to);
      if (from === to) throw new CliError('--from and --to name the same store');
      // No start-up sweep on either side: a server may still be running on them.
      const source = await openStore(options.from, { checkConsistency: false, poolSize: 2 });
      try {
        // The target takes every group of the source, even past its server's configured limit.
        const groupLimit = Math.max(DEFAULT_GROUP_LIMIT, (await source.listGroups()).length);
        const target = await openStore(options.to, { checkConsistency: false, poolSize: 2, groupLimit });
        try {
          io.print(`copying ${from} → ${to}`);
          const report = await copyLibrary(source, target, (progress) => io.print(`… ${summary(progress)}`));
          const sourceFaces = (await source.listFaces({ offset: 0, size: 1 })).total;
          const targetFaces = (await target.listFaces({ offset: 0, size: 1 })).total;
          io.print(`done: ${summary(report)}`);
          io.print(`faces: ${sourceFaces} in the source, ${targetFaces} in the target`);
          if (targetFaces < sourceFaces) throw new CliError('the target has fewer faces than the source');
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    });
}
