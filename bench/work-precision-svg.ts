/**
 * A minimal, dependency-free SVG writer for work–precision plots: one log–log panel per problem, one
 * polyline with markers per method. Only what bench/solvers.bench.ts needs.
 */

export interface PlotSeries {
  readonly label: string;
  /** Points (x, y), both positive (log axes). */
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

export interface PlotPanel {
  readonly title: string;
  readonly series: readonly PlotSeries[];
}

const COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#17becf',
];
const PANEL_W = 420;
const PANEL_H = 300;
const MARGIN = { left: 58, right: 12, top: 28, bottom: 42 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function logRange(values: number[]): [number, number] {
  const logs = values.filter((v) => v > 0 && Number.isFinite(v)).map(Math.log10);
  if (logs.length === 0) return [0, 1];
  const lo = Math.floor(Math.min(...logs));
  const hi = Math.ceil(Math.max(...logs));
  return lo === hi ? [lo, lo + 1] : [lo, hi];
}

/** Render panels in a grid (`columns` wide) with a shared legend; x and y are labelled once per panel. */
export function workPrecisionSvg(
  panels: readonly PlotPanel[],
  xLabel: string,
  yLabel: string,
  columns = 2,
): string {
  const labels = [...new Set(panels.flatMap((p) => p.series.map((s) => s.label)))];
  const color = (label: string) => COLORS[labels.indexOf(label) % COLORS.length];
  const rows = Math.ceil(panels.length / columns);
  const legendH = 24 + 16 * Math.ceil(labels.length / 4);
  const width = columns * PANEL_W;
  const height = rows * PANEL_H + legendH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  panels.forEach((panel, index) => {
    const ox = (index % columns) * PANEL_W;
    const oy = Math.floor(index / columns) * PANEL_H;
    const all = panel.series.flatMap((s) => s.points);
    const [x0, x1] = logRange(all.map((p) => p[0]));
    const [y0, y1] = logRange(all.map((p) => p[1]));
    const pw = PANEL_W - MARGIN.left - MARGIN.right;
    const ph = PANEL_H - MARGIN.top - MARGIN.bottom;
    const sx = (x: number) => ox + MARGIN.left + ((Math.log10(x) - x0) / (x1 - x0)) * pw;
    const sy = (y: number) => oy + MARGIN.top + ph - ((Math.log10(y) - y0) / (y1 - y0)) * ph;
    out.push(
      `<text x="${ox + PANEL_W / 2}" y="${oy + 16}" text-anchor="middle" font-size="13">${escapeXml(panel.title)}</text>`,
    );
    out.push(
      `<rect x="${ox + MARGIN.left}" y="${oy + MARGIN.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`,
    );
    for (let e = x0; e <= x1; e++) {
      const x = ox + MARGIN.left + ((e - x0) / (x1 - x0)) * pw;
      out.push(
        `<line x1="${x}" y1="${oy + MARGIN.top}" x2="${x}" y2="${oy + MARGIN.top + ph}" stroke="#eee"/>`,
      );
      out.push(`<text x="${x}" y="${oy + MARGIN.top + ph + 14}" text-anchor="middle">1e${e}</text>`);
    }
    for (let e = y0; e <= y1; e++) {
      const y = oy + MARGIN.top + ph - ((e - y0) / (y1 - y0)) * ph;
      out.push(
        `<line x1="${ox + MARGIN.left}" y1="${y}" x2="${ox + MARGIN.left + pw}" y2="${y}" stroke="#eee"/>`,
      );
      out.push(`<text x="${ox + MARGIN.left - 4}" y="${y + 4}" text-anchor="end">1e${e}</text>`);
    }
    out.push(
      `<text x="${ox + MARGIN.left + pw / 2}" y="${oy + PANEL_H - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    );
    out.push(
      `<text transform="translate(${ox + 14},${oy + MARGIN.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    );
    for (const s of panel.series) {
      const pts = s.points.filter((p) => p[0] > 0 && p[1] > 0);
      if (pts.length === 0) continue;
      const c = color(s.label);
      const path = pts.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
      out.push(
        `<polyline points="${path}" fill="none" stroke="${c}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
      );
      for (const p of pts)
        out.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${c}"/>`);
    }
  });
  labels.forEach((label, i) => {
    const x = 12 + (i % 4) * (width / 4);
    const y = rows * PANEL_H + 18 + 16 * Math.floor(i / 4);
    out.push(
      `<line x1="${x}" y1="${y - 4}" x2="${x + 22}" y2="${y - 4}" stroke="${color(label)}" stroke-width="2"/>`,
    );
    out.push(`<text x="${x + 28}" y="${y}">${escapeXml(label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
