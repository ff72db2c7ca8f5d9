/** Command-line plumbing shared by the benches: options, and whether a bench module runs as the script. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The value after `--name` on the command line, if given. */
export function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

export function numberOption(name: string, fallback: number): number {
  const value = option(name);
  return value === undefined ? fallback : Number(value);
}

/**
 * True when the module at `moduleUrl` is the script node was started with (`npm run bench:accuracy`), false
 * when it is imported (by `bench:recognition`, which runs every bench's measurement in one process).
 */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
}

export const percent = (fraction: number, digits = 1): string => `${(fraction * 100).toFixed(digits)} %`;
