/**
 * Ready-made figures for the experiments: line plots, phase portraits, vector fields with streamlines,
 * loss curves (log y) and work–precision diagrams (log–log). Each returns a plain {@link Figure}, which can
 * be adjusted before rendering with renderSvg/renderPng, or combined with {@link combineFigures}.
 */
import { VizError } from './errors.js';
import type { Axes, Figure, LegendPosition, MarkerShape, Numbers, Series } from './figure.js';
import { PALETTE, seriesColor } from './palette.js';
import { streamlines, type VectorFieldFn } from './streamlines.js';

export interface PlotOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
  readonly legend?: LegendPosition;
  readonly xLimits?: readonly [number, number];
  readonly yLimits?: readonly [number, number];
}

function single(axes: Axes, options: PlotOptions): Figure {
  return { width: options.width, height: options.height, panels: [axes] };
}

function axesOptions(options: PlotOptions): Omit<Axes, 'series'> {
  return {
    title: options.title,
    xLabel: options.xLabel,
    yLabel: options.yLabel,
    legend: options.legend,
    xLimits: options.xLimits,
    yLimits: options.yLimits,
  };
}

function range(n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

export interface LineSpec {
  /** Default 0, 1, 2, … */
  readonly x?: Numbers;
  readonly y: Numbers;
  readonly label?: string;
  readonly color?: string;
  readonly dash?: readonly number[];
  readonly width?: number;
  readonly marker?: MarkerShape;
}

/** One or more lines y(x). */
export function linePlot(
  lines: LineSpec | readonly LineSpec[],
  options: PlotOptions & { readonly xScale?: 'linear' | 'log'; readonly yScale?: 'linear' | 'log' } = {},
): Figure {
  const list = Array.isArray(lines) ? (lines as readonly LineSpec[]) : [lines as LineSpec];
  const series: Series[] = list.map((l) => ({
    kind: 'line',
    x: l.x ?? range(l.y.length),
    y: l.y,
    label: l.label,
    color: l.color,
    dash: l.dash,
    width: l.width,
    marker: l.marker,
  }));
  return single({ ...axesOptions(options), xScale: options.xScale, yScale: options.yScale, series }, options);
}

export interface TrajectorySpec {
  readonly x: Numbers;
  readonly y: Numbers;
  readonly label?: string;
  readonly color?: string;
  /** Default `line`. */
  readonly style?: 'line' | 'markers' | 'line+markers';
  readonly dash?: readonly number[];
  /** Mark the first point with a dot (default true for lines). */
  readonly markStart?: boolean;
}

function trajectorySeries(trajectories: readonly TrajectorySpec[], firstColor: number): Series[] {
  const out: Series[] = [];
  trajectories.forEach((t, i) => {
    const color = t.color ?? seriesColor(firstColor + i);
    const style = t.style ?? 'line';
    if (style === 'markers') {
      out.push({ kind: 'scatter', x: t.x, y: t.y, label: t.label, color, size: 5 });
      return;
    }
    out.push({
      kind: 'line',
      x: t.x,
      y: t.y,
      label: t.label,
      color,
      dash: t.dash,
      marker: style === 'line+markers' ? 'circle' : undefined,
      markerSize: 4,
    });
    if ((t.markStart ?? true) && t.x.length > 0) {
      out.push({ kind: 'scatter', x: [t.x[0]], y: [t.y[0]], color, size: 7 });
    }
  });
  return out;
}

export interface PhasePortraitOptions extends PlotOptions {
  /** Draw the streamlines of this field behind the trajectories. */
  readonly field?: VectorFieldFn;
  /** Streamline density when `field` is given (default 0.8). */
  readonly density?: number;
}

/** Trajectories in the plane with equal axis scales, optionally over the streamlines of a field. */
export function phasePortrait(
  trajectories: TrajectorySpec | readonly TrajectorySpec[],
  options: PhasePortraitOptions = {},
): Figure {
  const list = Array.isArray(trajectories)
    ? (trajectories as readonly TrajectorySpec[])
    : [trajectories as TrajectorySpec];
  const series: Series[] = [];
  let xLimits = options.xLimits;
  let yLimits = options.yLimits;
  if (options.field) {
    if (!xLimits || !yLimits) {
      // Frame the trajectories with a margin, then fill that frame with streamlines.
      const b = bounds(list);
      const pad = 0.12 * Math.max(b.x1 - b.x0, b.y1 - b.y0, 1e-9);
      xLimits ??= [b.x0 - pad, b.x1 + pad];
      yLimits ??= [b.y0 - pad, b.y1 + pad];
    }
    const lines = streamlines(options.field, {
      xRange: xLimits,
      yRange: yLimits,
      density: options.density ?? 0.8,
    });
    series.push({ kind: 'polylines', lines, color: '#b8b8b8', width: 1, arrows: true });
  }
  series.push(...trajectorySeries(list, 0));
  return single(
    {
      ...axesOptions(options),
      xLabel: options.xLabel ?? 'x',
      yLabel: options.yLabel ?? 'y',
      xLimits,
      yLimits,
      aspect: 'equal',
      series,
    },
    options,
  );
}

function bounds(list: readonly TrajectorySpec[]): { x0: number; x1: number; y0: number; y1: number } {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const t of list) {
    for (let i = 0; i < t.x.length; i++) {
      if (Number.isFinite(t.x[i]) && Number.isFinite(t.y[i])) {
        x0 = Math.min(x0, t.x[i]);
        x1 = Math.max(x1, t.x[i]);
        y0 = Math.min(y0, t.y[i]);
        y1 = Math.max(y1, t.y[i]);
      }
    }
  }
  if (!(x0 <= x1)) return { x0: -1, x1: 1, y0: -1, y1: 1 };
  return { x0, x1, y0, y1 };
}

export interface VectorFieldOptions extends PlotOptions {
  readonly xRange: readonly [number, number];
  readonly yRange: readonly [number, number];
  /** Arrows per axis (default 15; 0 for none). */
  readonly arrows?: number;
  /** Streamline density (default 0.75; 0 for none). */
  readonly streamlines?: number;
  /** Trajectories drawn on top (e.g. solutions of the ODE). */
  readonly trajectories?: readonly TrajectorySpec[];
}

/** A planar vector field: arrows on a grid, evenly spaced streamlines traced with RK4, and trajectories. */
export function vectorField(field: VectorFieldFn, options: VectorFieldOptions): Figure {
  const n = options.arrows ?? 15;
  if (!Number.isInteger(n) || n < 0 || n > 200) {
    throw new VizError('invalidArgument', `vectorField: arrows must be an integer in [0, 200], got ${n}`);
  }
  const [x0, x1] = options.xRange;
  const [y0, y1] = options.yRange;
  const series: Series[] = [];
  const density = options.streamlines ?? 0.75;
  if (density > 0) {
    const lines = streamlines(field, { xRange: options.xRange, yRange: options.yRange, density });
    series.push({ kind: 'polylines', lines, color: PALETTE[5], width: 1.1, arrows: true, opacity: 0.9 });
  }
  if (n > 0) {
    const xs: number[] = [];
    const ys: number[] = [];
    const us: number[] = [];
    const vs: number[] = [];
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const x = x0 + ((i + 0.5) * (x1 - x0)) / n;
        const y = y0 + ((j + 0.5) * (y1 - y0)) / n;
        const f = field(x, y);
        xs.push(x);
        ys.push(y);
        us.push(f[0]);
        vs.push(f[1]);
      }
    }
    series.push({ kind: 'quiver', x: xs, y: ys, u: us, v: vs, color: '#8c8c8c', width: 1 });
  }
  series.push(...trajectorySeries(options.trajectories ?? [], 0));
  return single(
    {
      ...axesOptions(options),
      xLabel: options.xLabel ?? 'x',
      yLabel: options.yLabel ?? 'y',
      xLimits: options.xLimits ?? options.xRange,
      yLimits: options.yLimits ?? options.yRange,
      aspect: 'equal',
      series,
    },
    options,
  );
}

export interface LossHistory {
  /** Default 1, 2, 3, … */
  readonly iterations?: Numbers;
  readonly values: Numbers;
  readonly label?: string;
  readonly color?: string;
}

export interface LossCurveOptions extends PlotOptions {
  /**
   * Exponential moving average over about this many points; the raw values are then drawn faintly behind
   * the smoothed curve. Default: no smoothing.
   */
  readonly smoothing?: number;
}

/** Training (and validation) losses against iteration, on a log y axis. */
export function lossCurve(
  history: Numbers | LossHistory | readonly LossHistory[],
  options: LossCurveOptions = {},
): Figure {
  const isNumbers = (h: unknown): h is Numbers =>
    ArrayBuffer.isView(h) || (Array.isArray(h) && (h.length === 0 || typeof h[0] === 'number'));
  const list: readonly LossHistory[] = isNumbers(history)
    ? [{ values: history }]
    : Array.isArray(history)
      ? (history as readonly LossHistory[])
      : [history as LossHistory];
  const series: Series[] = [];
  list.forEach((h, i) => {
    const color = h.color ?? seriesColor(i);
    const x = h.iterations ?? range(h.values.length).map((v) => v + 1);
    if (options.smoothing !== undefined && options.smoothing > 1) {
      series.push({ kind: 'line', x, y: h.values, color, width: 1, opacity: 0.3 });
      series.push({ kind: 'line', x, y: emaPositive(h.values, options.smoothing), color, label: h.label });
    } else {
      series.push({ kind: 'line', x, y: h.values, color, label: h.label });
    }
  });
  return single(
    {
      ...axesOptions(options),
      xLabel: options.xLabel ?? 'iteration',
      yLabel: options.yLabel ?? 'loss',
      yScale: 'log',
      series,
    },
    options,
  );
}

/** EMA in log space, so one huge early loss does not dominate the smoothed curve for long. */
function emaPositive(values: Numbers, span: number): Float64Array {
  const alpha = 2 / (span + 1);
  const out = new Float64Array(values.length);
  let acc = Number.NaN;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > 0 && Number.isFinite(v)) {
      const l = Math.log(v);
      acc = Number.isNaN(acc) ? l : acc + alpha * (l - acc);
    }
    out[i] = Number.isNaN(acc) ? Number.NaN : Math.exp(acc);
  }
  return out;
}

export interface MethodResult {
  readonly method: string;
  /** Achieved error of each run (x axis). */
  readonly error: Numbers;
  /** Cost of each run: function evaluations or seconds (y axis). */
  readonly cost: Numbers;
  readonly color?: string;
}

const MARKERS: readonly MarkerShape[] = ['circle', 'square', 'triangle', 'diamond'];

/** Work–precision diagram: cost against error for each method, log–log (lower left is better). */
export function workPrecision(results: readonly MethodResult[], options: PlotOptions = {}): Figure {
  if (results.length === 0)
    throw new VizError('invalidArgument', 'workPrecision: results must list at least one method');
  const series: Series[] = results.map((r, i) => ({
    kind: 'line',
    x: r.error,
    y: r.cost,
    label: r.method,
    color: r.color ?? seriesColor(i),
    marker: MARKERS[i % MARKERS.length],
    markerSize: 6,
  }));
  return single(
    {
      ...axesOptions(options),
      xLabel: options.xLabel ?? 'error',
      yLabel: options.yLabel ?? 'function evaluations',
      xScale: 'log',
      yScale: 'log',
      series,
    },
    options,
  );
}

/** Puts the panels of several figures side by side (or on a grid of `columns`). */
export function combineFigures(
  figures: readonly Figure[],
  options: {
    readonly title?: string;
    readonly columns?: number;
    readonly width?: number;
    readonly height?: number;
  } = {},
): Figure {
  const panels = figures.flatMap((f) => f.panels);
  const columns = options.columns ?? Math.min(panels.length, 3);
  const rows = Math.ceil(panels.length / columns);
  return {
    title: options.title,
    columns,
    width: options.width ?? 480 * columns,
    height: options.height ?? 400 * rows + (options.title ? 34 : 0),
    panels,
  };
}
