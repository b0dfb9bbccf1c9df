/**
 * A bar chart of a bench run as SVG: for each scenario, each target's median req/s as a ratio of
 * the node:http floor's, with the floor drawn as a line at 1.0x.
 */
export interface Bar {
  scenario: string;
  target: string;
  rps: number;
  ratio: number;
}

const ROW = 18;
const GAP = 14;
const LABEL = 300;
const PLOT = 420;
const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chart(title: string, subtitle: string, bars: readonly Bar[], colours: ReadonlyMap<string, string>): string {
  const max = Math.max(1.25, ...bars.map((b) => b.ratio));
  const x = (ratio: number): number => LABEL + (ratio / max) * PLOT;
  const parts: string[] = [];
  let y = 62;
  for (const scenario of [...new Set(bars.map((b) => b.scenario))]) {
    parts.push(`<text x="8" y="${y + 12}" font-weight="bold">${escape(scenario)}</text>`);
    y += ROW;
    for (const bar of bars.filter((b) => b.scenario === scenario)) {
      const colour = colours.get(bar.target) ?? '#888';
      parts.push(
        `<text x="${LABEL - 6}" y="${y + 12}" text-anchor="end">${escape(bar.target)}</text>`,
        `<rect x="${LABEL}" y="${y + 2}" width="${(x(bar.ratio) - LABEL).toFixed(1)}" height="${ROW - 4}" fill="${colour}"/>`,
        `<text x="${(x(bar.ratio) + 4).toFixed(1)}" y="${y + 12}">${bar.ratio.toFixed(2)}x · ${Math.round(bar.rps).toLocaleString('en-US')} req/s</text>`,
      );
      y += ROW;
    }
    y += GAP;
  }
  const height = y + 10;
  const width = LABEL + PLOT + 170;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="8" y="38" fill="#555">${escape(subtitle)}</text>`,
    `<line x1="${x(1)}" y1="48" x2="${x(1)}" y2="${height - 10}" stroke="#c00" stroke-dasharray="4 3"/>`,
    `<text x="${x(1) + 4}" y="56" fill="#c00">node:http floor = 1.0x</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
