/**
 * `visage import DIR --group G`: bulk registration of a folder tree of photos through the public API, with a
 * progress bar, N requests in flight, a report of the refused files by reason, and resumability (a re-run
 * skips the photos whose imageId is registered; see import-photo.ts).
 *
 * Exit code: 0 when every photo is in the library, 2 when some were refused, 1 when the import failed.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import pLimit from 'p-limit';
import { ApiClient, ApiRefusal } from './api-client.js';
import { CliError } from './cli-error.js';
import { startEmbeddedServer, type EmbeddedServer } from './embedded-server.js';
import { ImportTally, formatSummary } from './import-summary.js';
import { PhotoImporter } from './import-photo.js';
import { listPhotos } from './photo-files.js';

interface ImportOptions {
  group: string;
  nameFromFolder: boolean;
  concurrency: number;
  server: string;
  embedded: boolean;
  apiKey?: string;
  json: boolean;
}

const EXIT_SOME_REFUSED = 2;

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 256) throw new InvalidArgumentError('expected a whole number 1..256');
  return value;
}

export function importCommand(): Command {
  return new Command('import')
    .description('register every photo under DIR (.jpg .jpeg .png .bmp .webp), one face each, and bind it to a group')
    .argument('<dir>', 'folder of photos, read recursively')
    .requiredOption('-g, --group <groupId>', 'group to bind the faces to (created if missing)')
    .option('--name-from-folder', "name each face after its photo's folder (LFW layout: Name/Name_0001.jpg)", false)
    .option('-c, --concurrency <n>', 'photos in flight at once', positiveInteger, 4)
    .addOption(
      new Option('-s, --server <url>', 'the Visage server to import into')
        .default(`http://127.0.0.1:${process.env.PORT || 8080}`)
        .conflicts('embedded'),
    )
    .addOption(new Option('-k, --api-key <key>', 'API key with write scope, when the server requires keys').env('VISAGE_API_KEY'))
    .option('--embedded', 'run the server in this process on VISAGE_DATA instead (no server may be using it)', false)
    .option('--json', 'print the summary as JSON', false)
    .action(async (dir: string, options: ImportOptions) => {
      process.exitCode = await runImport(resolve(dir), options);
    });
}

async function runImport(root: string, options: ImportOptions): Promise<number> {
  const isFolder = await stat(root).then((stats) => stats.isDirectory(), () => false);
  if (!isFolder) throw new CliError(`${root} is not a folder`);
  const { photos, ignored } = await listPhotos(root);

  let embedded: EmbeddedServer | undefined;
  if (options.embedded) embedded = await startEmbeddedServer();
  try {
    const api = new ApiClient((embedded?.url ?? options.server).replace(/\/+$/, ''), options.apiKey);
    await ensureGroup(api, options.group);
    const importer = new PhotoImporter(api, { root, groupId: options.group, nameFromFolder: options.nameFromFolder });
    const tally = new ImportTally(photos.length, ignored.length);
    const started = performance.now();

    // cli-progress draws only on a terminal; piped output gets the summary alone.
    const bar = new SingleBar({
      stream: process.stderr,
      format: 'importing |{bar}| {value}/{total} photos | {rate}/s | refused {refused} | ETA {eta_formatted}',
      hideCursor: true,
    });
    bar.start(photos.length, 0, { rate: '0.0', refused: 0 });
    const limit = pLimit(options.concurrency);
    let done = 0;
    try {
      await Promise.all(
        photos.map((photo) =>
          limit(async () => {
            tally.record(photo, await importer.import(photo));
            const seconds = (performance.now() - started) / 1000;
            bar.update(++done, { rate: (done / seconds).toFixed(1), refused: tally.refused });
          }),
        ),
      );
    } catch (error) {
      limit.clearQueue(); // a fatal error (server gone): stop sending, keep what was done
      throw error;
    } finally {
      bar.stop();
    }

    const summary = tally.summary((performance.now() - started) / 1000);
    console.log(options.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    return summary.refused > 0 ? EXIT_SOME_REFUSED : 0;
  } finally {
    await embedded?.close();
  }
}

/** The target group, created (named after its id) when it does not exist yet. */
async function ensureGroup(api: ApiClient, groupId: string): Promise<void> {
  const groups = await api.listGroups();
  if (groups.some((group) => group.groupId === groupId)) return;
  try {
    await api.createGroup(groupId, groupId);
    console.error(`visage: created group ${groupId}`);
  } catch (error) {
    if (error instanceof ApiRefusal) throw new CliError(`cannot create group ${JSON.stringify(groupId)}: ${error.msg}`);
    throw error;
  }
}
