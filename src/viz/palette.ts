/**
 * Colours. The series palette is Okabe & Ito's colour-blind-safe set ("Color Universal Design", 2008),
 * ordered so that the first colours differ in lightness as well as hue and stay apart in greyscale.
 */
import { VizError } from './errors.js';

export const PALETTE: readonly string[] = Object.freeze([
  '#0072B2', // blue
  '#E69F00', // orange
  '#009E73', // bluish green
  '#D55E00', // vermillion
  '#CC79A7', // reddish purple
  '#56B4E9', // sky blue
  '#F0E442', // yellow
  '#000000', // black
]);

/** Colours of the figure furniture. */
export const THEME = Object.freeze({
  background: '#ffffff',
  panel: '#ffffff',
  grid: '#e6e6e6',
  minorGrid: '#f3f3f3',
  frame: '#4d4d4d',
  text: '#222222',
  mutedText: '#555555',
  quiver: '#9a9a9a',
  legendBackground: '#ffffff',
  legendBorder: '#cccccc',
});

export function seriesColor(index: number): string {
  return PALETTE[index % PALETTE.length];
}

/** Parses `#rgb` or `#rrggbb` to [r, g, b] in 0..255. */
export function parseColor(color: string): [number, number, number] {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (!m) throw new VizError('invalidArgument', `colour must be '#rgb' or '#rrggbb', got '${color}'`);
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}
