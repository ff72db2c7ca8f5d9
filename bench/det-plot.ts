/**
 * A DET curve (false non-match rate against false match rate, both on log scales) as SVG, rendered to PNG by
 * sharp: what `npm run bench:accuracy -- --plot FILE` writes. Scores of the calibrated scale are marked on it.
 */
import sharp from 'sharp';

export interface DetPoint {
  fmr: number;
  fnmr: number;
}

export interface DetMark extends DetPoint {
  label: string;
}

const WIDTH = 720;
const HEIGHT = 540;
const MARGIN = { left: 80, right: 30, top: 50, bottom: 60 };
const FMR_DECADES = [-6, 0] as const;
const FNMR_DECADES = [-3, 0] as const;

const logX = (fmr: number) => {
  const t = (Math.log10(Math.max(fmr, 10 ** FMR_DECADES[0])) - FMR_DECADES[0]) / (FMR_DECADES[1] - FMR_DECADES[0]);
  return MARGIN.left + t * (WIDTH - MARGIN.left - MARGIN.right);
};
const logY = (fnmr: number) => {
  const t = (Math.log10(Math.max(fnmr, 10 ** FNMR_DECADES[0])) - FNMR_DECADES[0]) / (FNMR_DECADES[1] - FNMR_DECADES[0]);
  return HEIGHT - MARGIN.bottom - t * (HEIGHT - MARGIN.top - MARGIN.bottom);
};

export function detSvg(title: string, curve: DetPoint[], marks: DetMark[]): string {
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="DejaVu Sans, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="28" text-anchor="middle" font-size="16">${title}</text>`,
  ];
  for (let d = FMR_DECADES[0]; d <= FMR_DECADES[1]; d++) {
    const x = logX(10 ** d);
    parts.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${HEIGHT - MARGIN.bottom}" stroke="#ddd"/>`);
    parts.push(`<text x="${x}" y="${HEIGHT - MARGIN.bottom + 20}" text-anchor="middle">1e${d}</text>`);
  }
  for (let d = FNMR_DECADES[0]; d <= FNMR_DECADES[1]; d++) {
    const y = logY(10 ** d);
    parts.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${WIDTH - MARGIN.right}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${y + 4}" text-anchor="end">1e${d}</text>`);
  }
  parts.push(`<text x="${WIDTH / 2}" y="${HEIGHT - 15}" text-anchor="middle">false match rate (impostor pairs accepted)</text>`);
  parts.push(
    `<text transform="translate(22 ${HEIGHT / 2}) rotate(-90)" text-anchor="middle">false non-match rate (genuine pairs rejected)</text>`,
  );
  const path = curve
    .filter((p) => p.fmr > 0 && p.fnmr > 0)
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${logX(p.fmr).toFixed(1)},${logY(p.fnmr).toFixed(1)}`)
    .join(' ');
  parts.push(`<path d="${path}" fill="none" stroke="#1f5fbf" stroke-width="2.5"/>`);
  for (const mark of marks) {
    const x = logX(mark.fmr);
    const y = logY(mark.fnmr);
    parts.push(`<circle cx="${x}" cy="${y}" r="4.5" fill="#c03020"/>`);
    parts.push(`<text x="${x + 7}" y="${y - 7}" fill="#c03020">${mark.label}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${HEIGHT - MARGIN.top - MARGIN.bottom}" fill="none" stroke="#444"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}

export async function writeDetPng(file: string, svg: string): Promise<void> {
  await sharp(Buffer.from(svg)).png().toFile(file);
}
