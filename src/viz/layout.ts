/**
 * Layout: turns a {@link Figure} into a {@link Scene} of pixel-space primitives. Everything both backends
 * must agree on (data limits, ticks, margins, legend placement, arrow geometry) is decided here once.
 */
import type { Axes, AxisScale, Figure, MarkerShape, Numbers, Series } from './figure.js';
import { validateFigure } from './figure.js';
import { seriesColor, THEME } from './palette.js';
import {
  type MarkersItem,
  type PathItem,
  type Rect,
  type Scene,
  type SceneItem,
  type Subpath,
  type TextItem,
  textWidth,
} from './scene.js';
import { linearTicks, logTicks, type Tick } from './ticks.js';

const FONT = { tick: 11, label: 12, title: 13, figureTitle: 15, legend: 11 } as const;
const TICK_LENGTH = 4;
const DEFAULT_LINE_WIDTH = 1.75;

/** Maps data values along one axis to pixels. */
export interface AxisMap {
  readonly scale: AxisScale;
  /** Limits in data units. */
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly Tick[];
  /** Pixel coordinate of a data value (NaN for values a log axis cannot show). */
  toPixel(v: number): number;
}

function transform(scale: AxisScale, v: number): number {
  if (scale === 'log') return v > 0 ? Math.log10(v) : Number.NaN;
  return v;
}

function makeAxis(
  scale: AxisScale,
  lo: number,
  hi: number,
  p0: number,
  p1: number,
  tickCount: number,
): AxisMap {
  const t0 = transform(scale, lo);
  const t1 = transform(scale, hi);
  const k = (p1 - p0) / (t1 - t0);
  const ticks = (scale === 'log' ? logTicks(lo, hi, tickCount) : linearTicks(lo, hi, tickCount)).filter(
    (t) =>
      t.value >= Math.min(lo, hi) - 1e-12 * Math.abs(hi - lo) &&
      t.value <= Math.max(lo, hi) + 1e-12 * Math.abs(hi - lo),
  );
  return { scale, lo, hi, ticks, toPixel: (v) => p0 + (transform(scale, v) - t0) * k };
}

/** All x and y values a series puts on the axes. */
function seriesValues(s: Series): { xs: Numbers[]; ys: Numbers[] } {
  switch (s.kind) {
    case 'line':
    case 'scatter':
    case 'quiver':
      return { xs: [s.x], ys: [s.y] };
    case 'band':
      return { xs: [s.x, s.x], ys: [s.lower, s.upper] };
    case 'polylines':
      return { xs: s.lines.map((l) => l.x), ys: s.lines.map((l) => l.y) };
  }
}

/** Data range in transformed units (log10 for log axes), or null when there is no drawable value. */
function extent(arrays: Numbers[], scale: AxisScale): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const t = transform(scale, a[i]);
      if (Number.isFinite(t)) {
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      }
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Limits in data units: fixed, or the data range with a 4% margin (in transformed units). */
function autoLimits(
  arrays: Numbers[],
  scale: AxisScale,
  fixed?: readonly [number, number],
): [number, number] {
  if (fixed) return [fixed[0], fixed[1]];
  const e = extent(arrays, scale) ?? (scale === 'log' ? [0, 1] : [0, 1]);
  let [lo, hi] = e;
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(lo))) {
    const pad = scale === 'log' ? 0.5 : Math.abs(lo) > 0 ? 0.1 * Math.abs(lo) : 1;
    lo -= pad;
    hi += pad;
  } else {
    const m = 0.04 * (hi - lo);
    lo -= m;
    hi += m;
  }
  return scale === 'log' ? [10 ** lo, 10 ** hi] : [lo, hi];
}

interface PanelFrame {
  readonly plot: Rect;
  readonly x: AxisMap;
  readonly y: AxisMap;
}

function tickLabelWidth(ticks: readonly Tick[]): number {
  return Math.max(0, ...ticks.filter((t) => !t.minor).map((t) => textWidth(t.label, FONT.tick, t.exponent)));
}

function framePanel(axes: Axes, cell: Rect): PanelFrame {
  const xScale = axes.xScale ?? 'linear';
  const yScale = axes.yScale ?? 'linear';
  const values = axes.series.map(seriesValues);
  let xLim = autoLimits(
    values.flatMap((v) => v.xs),
    xScale,
    axes.xLimits,
  );
  let yLim = autoLimits(
    values.flatMap((v) => v.ys),
    yScale,
    axes.yLimits,
  );

  const cellTop = cell.y + (axes.title ? 28 : 12);
  const cellBottom =
    cell.y + cell.h - (10 + (axes.xLabel ? FONT.label + 8 : 0) + FONT.tick + 6 + TICK_LENGTH);
  const cellRight = cell.x + cell.w - 16;
  const leftFor = (yTicks: readonly Tick[]): number =>
    cell.x + 10 + (axes.yLabel ? FONT.label + 8 : 0) + tickLabelWidth(yTicks) + 6 + TICK_LENGTH;
  const yCount = (h: number) => Math.max(3, Math.round(h / 55));
  const xCount = (w: number) => Math.max(3, Math.round(w / 85));

  // Tick labels on y decide the left margin, which decides the plot width; one refinement pass suffices.
  let left = leftFor(
    makeAxis(yScale, yLim[0], yLim[1], cellBottom, cellTop, yCount(cellBottom - cellTop)).ticks,
  );
  let right = cellRight;
  let top = cellTop;
  let bottom = cellBottom;
  const equal = axes.aspect === 'equal' && xScale === 'linear' && yScale === 'linear';
  if (equal && !(axes.xLimits && axes.yLimits)) {
    // Grow the range that is short for its side so that one unit has the same length in x and y.
    const w = right - left;
    const h = bottom - top;
    const unitsPerPx = Math.max((xLim[1] - xLim[0]) / w, (yLim[1] - yLim[0]) / h);
    const grow = (lim: [number, number], px: number): [number, number] => {
      const c = (lim[0] + lim[1]) / 2;
      return [c - (unitsPerPx * px) / 2, c + (unitsPerPx * px) / 2];
    };
    if (!axes.xLimits) xLim = grow(xLim, w);
    if (!axes.yLimits) yLim = grow(yLim, h);
  } else if (equal) {
    // Both ranges fixed: shrink the plot area along the long side instead, keeping it centred in the cell.
    const w = right - left;
    const h = bottom - top;
    const unitsPerPx = Math.max((xLim[1] - xLim[0]) / w, (yLim[1] - yLim[0]) / h);
    const newW = (xLim[1] - xLim[0]) / unitsPerPx;
    const newH = (yLim[1] - yLim[0]) / unitsPerPx;
    left += (w - newW) / 2;
    right = left + newW;
    top += (h - newH) / 2;
    bottom = top + newH;
  }
  const y = makeAxis(yScale, yLim[0], yLim[1], bottom, top, yCount(bottom - top));
  if (!equal) left = Math.max(left, leftFor(y.ticks));
  const x = makeAxis(xScale, xLim[0], xLim[1], left, right, xCount(right - left));
  return { plot: { x: left, y: top, w: right - left, h: bottom - top }, x, y };
}

/** Splits a polyline at points that cannot be drawn (NaN, or non-positive on a log axis). */
function polylinePieces(xs: Numbers, ys: Numbers, frame: PanelFrame): number[][] {
  const pieces: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const px = frame.x.toPixel(xs[i]);
    const py = frame.y.toPixel(ys[i]);
    if (Number.isFinite(px) && Number.isFinite(py)) {
      current.push(px, py);
    } else if (current.length > 0) {
      pieces.push(current);
      current = [];
    }
  }
  if (current.length > 0) pieces.push(current);
  return pieces;
}

function arrowHead(
  tipX: number,
  tipY: number,
  dx: number,
  dy: number,
  length: number,
  halfWidth: number,
): Subpath {
  const n = Math.hypot(dx, dy);
  const ux = dx / n;
  const uy = dy / n;
  const bx = tipX - ux * length;
  const by = tipY - uy * length;
  return {
    points: [tipX, tipY, bx - uy * halfWidth, by + ux * halfWidth, bx + uy * halfWidth, by - ux * halfWidth],
    closed: true,
  };
}

interface LegendEntry {
  readonly label: string;
  readonly series: Series;
  readonly color: string;
}

function seriesItems(s: Series, index: number, color: string, frame: PanelFrame): SceneItem[] {
  const role = `series series-${index} ${s.kind}`;
  const clip = frame.plot;
  const opacity = s.opacity ?? 1;
  switch (s.kind) {
    case 'line': {
      const pieces = polylinePieces(s.x, s.y, frame);
      const items: SceneItem[] = [
        {
          kind: 'path',
          role,
          subpaths: pieces.map((points) => ({ points, closed: false })),
          stroke: color,
          strokeWidth: s.width ?? DEFAULT_LINE_WIDTH,
          strokeOpacity: opacity,
          dash: s.dash,
          clip,
        },
      ];
      if (s.marker)
        items.push(
          markers(
            s.marker,
            s.markerSize ?? 5,
            pieces.flat(),
            color,
            opacity,
            `series-markers series-${index}`,
            clip,
          ),
        );
      return items;
    }
    case 'scatter': {
      const pts = polylinePieces(s.x, s.y, frame).flat();
      return [markers(s.marker ?? 'circle', s.size ?? 6, pts, color, opacity, role, clip)];
    }
    case 'band': {
      const subpaths: Subpath[] = [];
      let upper: number[] = [];
      let lower: number[] = [];
      const flush = () => {
        if (upper.length >= 4) {
          const back: number[] = [];
          for (let i = lower.length - 2; i >= 0; i -= 2) back.push(lower[i], lower[i + 1]);
          subpaths.push({ points: [...upper, ...back], closed: true });
        }
        upper = [];
        lower = [];
      };
      for (let i = 0; i < s.x.length; i++) {
        const px = frame.x.toPixel(s.x[i]);
        const pu = frame.y.toPixel(s.upper[i]);
        const pl = frame.y.toPixel(s.lower[i]);
        if (Number.isFinite(px) && Number.isFinite(pu) && Number.isFinite(pl)) {
          upper.push(px, pu);
          lower.push(px, pl);
        } else flush();
      }
      flush();
      return [{ kind: 'path', role, subpaths, fill: color, fillOpacity: s.opacity ?? 0.25, clip }];
    }
    case 'polylines': {
      const width = s.width ?? 1.25;
      const subpaths: Subpath[] = [];
      for (const line of s.lines) {
        for (const points of polylinePieces(line.x, line.y, frame)) {
          subpaths.push({ points, closed: false });
          if (s.arrows && points.length >= 6) {
            // Arrowhead at the middle of the polyline's length, pointing along it.
            let total = 0;
            for (let i = 2; i < points.length; i += 2)
              total += Math.hypot(points[i] - points[i - 2], points[i + 1] - points[i - 1]);
            let acc = 0;
            for (let i = 2; i < points.length; i += 2) {
              const seg = Math.hypot(points[i] - points[i - 2], points[i + 1] - points[i - 1]);
              if (acc + seg >= total / 2 && seg > 0 && total > 24) {
                const f = (total / 2 - acc) / seg;
                const dx = points[i] - points[i - 2];
                const dy = points[i + 1] - points[i - 1];
                const tx = points[i - 2] + f * dx;
                const ty = points[i - 1] + f * dy;
                subpaths.push(
                  arrowHead(
                    tx + (dx / seg) * 3,
                    ty + (dy / seg) * 3,
                    dx,
                    dy,
                    3 + 2.5 * width,
                    1.5 + 1.3 * width,
                  ),
                );
                break;
              }
              acc += seg;
            }
          }
        }
      }
      return [
        {
          kind: 'path',
          role,
          subpaths,
          stroke: color,
          strokeWidth: width,
          strokeOpacity: opacity,
          fill: color,
          fillOpacity: opacity,
          clip,
        },
      ];
    }
    case 'quiver': {
      const n = s.x.length;
      const px: number[] = [];
      const py: number[] = [];
      const du: number[] = [];
      const dv: number[] = [];
      let maxNorm = 0;
      for (let i = 0; i < n; i++) {
        const x0 = frame.x.toPixel(s.x[i]);
        const y0 = frame.y.toPixel(s.y[i]);
        // Direction in pixel space: a data-space vector (u, v) at (x, y) points towards (x + εu, y + εv).
        const eps = 1e-6;
        const x1 = frame.x.toPixel(s.x[i] + eps * s.u[i]);
        const y1 = frame.y.toPixel(s.y[i] + eps * s.v[i]);
        const u = (x1 - x0) / eps;
        const v = (y1 - y0) / eps;
        if (![x0, y0, u, v].every(Number.isFinite)) continue;
        px.push(x0);
        py.push(y0);
        du.push(u);
        dv.push(v);
        maxNorm = Math.max(maxNorm, Math.hypot(u, v));
      }
      const spacing = Math.sqrt((frame.plot.w * frame.plot.h) / Math.max(1, px.length));
      const maxLength = s.maxLength ?? 0.85 * spacing;
      const width = s.width ?? 1.1;
      const subpaths: Subpath[] = [];
      for (let i = 0; i < px.length; i++) {
        const norm = Math.hypot(du[i], dv[i]);
        if (!(norm > 0) || !(maxNorm > 0)) continue;
        const len = (maxLength * norm) / maxNorm;
        if (len < 0.75) continue;
        const ux = du[i] / norm;
        const uy = dv[i] / norm;
        const head = Math.min(0.4 * len, 2.5 + 2.5 * width);
        const tipX = px[i] + ux * len;
        const tipY = py[i] + uy * len;
        subpaths.push({
          points: [px[i], py[i], tipX - ux * head * 0.8, tipY - uy * head * 0.8],
          closed: false,
        });
        subpaths.push(arrowHead(tipX, tipY, ux, uy, head, head * 0.45));
      }
      return [
        {
          kind: 'path',
          role,
          subpaths,
          stroke: color,
          strokeWidth: width,
          strokeOpacity: opacity,
          fill: color,
          fillOpacity: opacity,
          clip,
        },
      ];
    }
  }
}

function markers(
  shape: MarkerShape,
  size: number,
  points: number[],
  color: string,
  opacity: number,
  role: string,
  clip: Rect,
): MarkersItem {
  return { kind: 'markers', role, shape, size, points, fill: color, opacity, edge: THEME.background, clip };
}

function legendItems(
  entries: LegendEntry[],
  frame: PanelFrame,
  position: Exclude<Axes['legend'], undefined>,
  dataPoints: number[],
): SceneItem[] {
  if (entries.length === 0 || position === 'none') return [];
  const pad = 6;
  const row = 16;
  const swatch = 22;
  const w = pad * 2 + swatch + 6 + Math.max(...entries.map((e) => textWidth(e.label, FONT.legend)));
  const h = pad * 2 + row * entries.length - 4;
  const { plot } = frame;
  const inset = 8;
  const corners = {
    'top-right': { x: plot.x + plot.w - w - inset, y: plot.y + inset },
    'top-left': { x: plot.x + inset, y: plot.y + inset },
    'bottom-right': { x: plot.x + plot.w - w - inset, y: plot.y + plot.h - h - inset },
    'bottom-left': { x: plot.x + inset, y: plot.y + plot.h - h - inset },
  } as const;
  let corner: keyof typeof corners;
  if (position === 'auto') {
    // The corner that covers the fewest data points; ties keep the conventional top-right.
    let best = Infinity;
    corner = 'top-right';
    for (const c of Object.keys(corners) as (keyof typeof corners)[]) {
      const r = corners[c];
      let count = 0;
      for (let i = 0; i < dataPoints.length; i += 2) {
        const x = dataPoints[i];
        const y = dataPoints[i + 1];
        if (x >= r.x - 4 && x <= r.x + w + 4 && y >= r.y - 4 && y <= r.y + h + 4) count++;
      }
      if (count < best) {
        best = count;
        corner = c;
      }
    }
  } else corner = position;
  const { x, y } = corners[corner];
  const items: SceneItem[] = [
    {
      kind: 'rect',
      role: 'legend',
      x,
      y,
      w,
      h,
      fill: THEME.legendBackground,
      fillOpacity: 0.88,
      stroke: THEME.legendBorder,
      strokeWidth: 1,
    },
  ];
  entries.forEach((e, i) => {
    const cy = y + pad + row * i + 6;
    const sx = x + pad;
    const s = e.series;
    if (s.kind === 'scatter') {
      items.push(
        markers(
          s.marker ?? 'circle',
          s.size ?? 6,
          [sx + swatch / 2, cy],
          e.color,
          s.opacity ?? 1,
          'legend-swatch',
          { x, y, w, h },
        ),
      );
    } else if (s.kind === 'band') {
      items.push({
        kind: 'rect',
        role: 'legend-swatch',
        x: sx,
        y: cy - 5,
        w: swatch,
        h: 10,
        fill: e.color,
        fillOpacity: s.opacity ?? 0.25,
      });
    } else {
      const width =
        s.kind === 'line' ? (s.width ?? DEFAULT_LINE_WIDTH) : s.kind === 'quiver' ? 1.1 : (s.width ?? 1.25);
      const path: PathItem = {
        kind: 'path',
        role: 'legend-swatch',
        subpaths: [{ points: [sx, cy, sx + swatch, cy], closed: false }],
        stroke: e.color,
        strokeWidth: Math.max(width, 1.5),
        strokeOpacity: s.opacity ?? 1,
        dash: s.kind === 'line' ? s.dash : undefined,
      };
      items.push(path);
      if (s.kind === 'line' && s.marker)
        items.push(
          markers(s.marker, s.markerSize ?? 5, [sx + swatch / 2, cy], e.color, 1, 'legend-swatch', {
            x,
            y,
            w,
            h,
          }),
        );
    }
    items.push(text('legend-text', sx + swatch + 6, cy, e.label, FONT.legend, 'start', 'middle', THEME.text));
  });
  return items;
}

function text(
  role: string,
  x: number,
  y: number,
  content: string,
  size: number,
  anchor: TextItem['anchor'],
  baseline: TextItem['baseline'],
  color: string,
  extra: Partial<Pick<TextItem, 'rotate' | 'bold' | 'exponent'>> = {},
): TextItem {
  return {
    kind: 'text',
    role,
    x,
    y,
    text: content,
    size,
    anchor,
    baseline,
    rotate: extra.rotate ?? 0,
    color,
    bold: extra.bold,
    exponent: extra.exponent,
  };
}

function panelItems(axes: Axes, cell: Rect): SceneItem[] {
  const frame = framePanel(axes, cell);
  const { plot, x, y } = frame;
  const items: SceneItem[] = [{ kind: 'rect', role: 'panel', ...plot, fill: THEME.panel }];
  const grid: number[][] = [];
  const minor: number[][] = [];
  const ticks: number[][] = [];
  const xb = plot.y + plot.h;
  for (const t of x.ticks) {
    const px = x.toPixel(t.value);
    (t.minor ? minor : grid).push([px, plot.y, px, xb]);
    ticks.push([px, xb, px, xb + (t.minor ? TICK_LENGTH / 2 : TICK_LENGTH)]);
    if (!t.minor)
      items.push(
        text('tick-label', px, xb + TICK_LENGTH + 4, t.label, FONT.tick, 'middle', 'top', THEME.mutedText, {
          exponent: t.exponent,
        }),
      );
  }
  for (const t of y.ticks) {
    const py = y.toPixel(t.value);
    (t.minor ? minor : grid).push([plot.x, py, plot.x + plot.w, py]);
    ticks.push([plot.x - (t.minor ? TICK_LENGTH / 2 : TICK_LENGTH), py, plot.x, py]);
    if (!t.minor)
      items.push(
        text(
          'tick-label',
          plot.x - TICK_LENGTH - 4,
          py,
          t.label,
          FONT.tick,
          'end',
          'middle',
          THEME.mutedText,
          { exponent: t.exponent },
        ),
      );
  }
  const lines = (role: string, segs: number[][], color: string, width: number): PathItem => ({
    kind: 'path',
    role,
    subpaths: segs.map((points) => ({ points, closed: false })),
    stroke: color,
    strokeWidth: width,
  });
  if (axes.grid !== false) {
    if (minor.length > 0) items.push(lines('grid-minor', minor, THEME.minorGrid, 1));
    items.push(lines('grid', grid, THEME.grid, 1));
  }

  const entries: LegendEntry[] = [];
  const dataPoints: number[] = [];
  let paletteIndex = 0;
  axes.series.forEach((s, i) => {
    const color = s.color ?? (s.kind === 'quiver' ? THEME.quiver : seriesColor(paletteIndex++));
    const drawn = seriesItems(s, i, color, frame);
    items.push(...drawn);
    for (const d of drawn) {
      if (d.kind === 'path') for (const sp of d.subpaths) dataPoints.push(...sp.points);
      if (d.kind === 'markers') dataPoints.push(...d.points);
    }
    if (s.label) entries.push({ label: s.label, series: s, color });
  });
  items.push({ kind: 'rect', role: 'frame', ...plot, stroke: THEME.frame, strokeWidth: 1 });
  items.push(lines('ticks', ticks, THEME.frame, 1));
  items.push(...legendItems(entries, frame, axes.legend ?? 'auto', dataPoints));
  if (axes.title) {
    items.push(
      text(
        'axes-title',
        plot.x + plot.w / 2,
        cell.y + 10,
        axes.title,
        FONT.title,
        'middle',
        'top',
        THEME.text,
        { bold: true },
      ),
    );
  }
  if (axes.xLabel) {
    items.push(
      text(
        'axis-label',
        plot.x + plot.w / 2,
        cell.y + cell.h - 10,
        axes.xLabel,
        FONT.label,
        'middle',
        'bottom',
        THEME.text,
      ),
    );
  }
  if (axes.yLabel) {
    items.push(
      text(
        'axis-label',
        plot.x - TICK_LENGTH - 4 - tickLabelWidth(y.ticks) - 8,
        plot.y + plot.h / 2,
        axes.yLabel,
        FONT.label,
        'middle',
        'bottom',
        THEME.text,
        { rotate: -90 },
      ),
    );
  }
  return items;
}

/** Lays a figure out into a scene of pixel-space primitives. */
export function layoutFigure(figure: Figure): Scene {
  validateFigure(figure);
  const width = figure.width ?? 640;
  const height = figure.height ?? 480;
  const n = figure.panels.length;
  const columns = Math.max(1, Math.min(n, figure.columns ?? Math.min(n, 3)));
  const rows = Math.ceil(n / columns);
  const top = figure.title ? 34 : 0;
  const cellW = width / columns;
  const cellH = (height - top) / rows;
  const items: SceneItem[] = [];
  if (figure.title) {
    items.push(
      text('figure-title', width / 2, 12, figure.title, FONT.figureTitle, 'middle', 'top', THEME.text, {
        bold: true,
      }),
    );
  }
  figure.panels.forEach((axes, i) => {
    const cell = { x: (i % columns) * cellW, y: top + Math.floor(i / columns) * cellH, w: cellW, h: cellH };
    items.push(...panelItems(axes, cell));
  });
  return { width, height, background: THEME.background, items };
}
