/**
 * `visage reembed`: embeds every face of the data directory (VISAGE_DATA) again from its kept original with
 * this version's model, printing the progress, then switches all faces at once. Meant to run with a new
 * version beside a server still on the old one: that server keeps answering on the old vectors (staged ones
 * are invisible to it) until the switch; restarted on the new version, it loads the complete new set.
 */
import { Command } from 'commander';
import { reembedLibrary } from '../library/reembed.js';
import { loadCliConfig, openConfiguredStore } from './cli-config.js';
import { createFaceAnalyzer } from '../vision/pool.js';
import { CliError } from './cli-error.js';

export function reembedCommand(print: (line: string) => void = (line) => console.log(line)): Command {
  return new Command('reembed')
    .description("re-embed every stored face from its original with this version's model, then switch atomically")
    .option('--stage-only', 'stage the new embeddings but leave the switch to the next server start')
    .action(async (options: { stageOnly?: boolean }) => {
      const config = loadCliConfig();
      // No start-up sweep (the default here): a server may be running on this directory with a registration in flight.
      const store = await openConfiguredStore({}, config);
      try {
        const analyzer = await createFaceAnalyzer({ modelDir: config.modelDir, threads: config.threads, maxQueue: Infinity });
        try {
          const start = await store.modelCoverage(analyzer.modelId);
          print(`${analyzer.modelId}: ${start.covered} of ${start.faces} faces already embedded`);
          let shown = -1;
          const outcome = await reembedLibrary(store, analyzer, {
            stageOnly: options.stageOnly ?? false,
            onProgress: ({ faces, covered }) => {
              const percent = Math.floor((100 * covered) / Math.max(1, faces));
              if (percent === shown && covered !== faces) return;
              shown = percent;
              print(`re-embedded ${covered}/${faces} faces (${percent} %)`);
            },
          });
          for (const faceToken of outcome.failed) print(`no face found again in the original of ${faceToken}`);
          if (outcome.switched) print(`switched: every face is now embedded by ${outcome.modelId}`);
          else if (options.stageOnly) print('staged; the next server start switches');
          else throw new CliError(`not switched: ${outcome.failed.length} face(s) could not be re-embedded (delete or re-register them)`);
        } finally {
          await analyzer.close();
        }
      } finally {
        await store.close();
      }
    });
}
