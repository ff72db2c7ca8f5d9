/** The tally of a bulk import and its end-of-run report: counts, then the refused files grouped by reason. */

export type ImportOutcome =
  | { kind: 'imported' }
  /** Its imageId was already registered (an earlier run, or another client). */
  | { kind: 'skipped' }
  /** Same bytes as another file of this run. */
  | { kind: 'duplicate' }
  | { kind: 'refused'; reason: string; code: number | null };

export interface RefusalGroup {
  /** The server's `msg` (e.g. `FACE_NOT_FOUND`, `BAD_QUALITY:ANGLE`), or a local reason. */
  reason: string;
  /** The api.md code, null for a local failure (unreadable file). */
  code: number | null;
  files: string[];
}

export interface ImportSummary {
  files: number;
  imported: number;
  skipped: number;
  duplicates: number;
  refused: number;
  /** Files without a photo extension, not sent. */
  ignored: number;
  refusals: RefusalGroup[];
  seconds: number;
}

export class ImportTally {
  private readonly counts = { imported: 0, skipped: 0, duplicates: 0, refused: 0 };
  private readonly refusals = new Map<string, RefusalGroup>();

  constructor(
    private readonly files: number,
    private readonly ignored: number,
  ) {}

  get refused(): number {
    return this.counts.refused;
  }

  record(file: string, outcome: ImportOutcome): void {
    if (outcome.kind === 'imported') this.counts.imported++;
    else if (outcome.kind === 'skipped') this.counts.skipped++;
    else if (outcome.kind === 'duplicate') this.counts.duplicates++;
    else {
      this.counts.refused++;
      let group = this.refusals.get(outcome.reason);
      if (!group) {
        group = { reason: outcome.reason, code: outcome.code, files: [] };
        this.refusals.set(outcome.reason, group);
      }
      group.files.push(file);
    }
  }

  summary(seconds: number): ImportSummary {
    // Most frequent reason first; ties by reason, so the report does not depend on completion order.
    const refusals = [...this.refusals.values()].sort(
      (a, b) => b.files.length - a.files.length || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0),
    );
    for (const group of refusals) group.files.sort();
    return { files: this.files, ...this.counts, ignored: this.ignored, refusals, seconds };
  }
}

/** Files listed per reason before "… and N more". */
const LISTED_PER_REASON = 10;

export function formatSummary(summary: ImportSummary): string {
  const rate = summary.seconds > 0 ? (summary.imported / summary.seconds).toFixed(1) : '–';
  const lines = [
    `${summary.files} photo(s) in ${summary.seconds.toFixed(1)} s: ${summary.imported} imported (${rate}/s), ` +
      `${summary.skipped} already imported, ${summary.duplicates} duplicate(s) of another file, ${summary.refused} refused`,
  ];
  if (summary.ignored > 0) lines.push(`${summary.ignored} file(s) without a photo extension ignored`);
  if (summary.refusals.length > 0) lines.push('Refused:');
  for (const group of summary.refusals) {
    lines.push(`  ${group.reason}${group.code === null ? '' : ` (${group.code})`}: ${group.files.length}`);
    for (const file of group.files.slice(0, LISTED_PER_REASON)) lines.push(`    ${file}`);
    if (group.files.length > LISTED_PER_REASON) lines.push(`    … and ${group.files.length - LISTED_PER_REASON} more`);
  }
  return lines.join('\n');
}
