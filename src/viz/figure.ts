/**
 * The figure model: a plain, serialisable description of what to draw, independent of the backend. A
 * {@link Figure} holds one or more {@link Axes} panels laid out on a grid; each panel holds series. The SVG
 * writer (svg.ts) and the raster backend (png.ts) both draw from the same layout (layout.ts), so the two
 * outputs agree.
 */
import { VizError } from './errors.js';

export type Numbers = ArrayLike<number>;
export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond';

interface SeriesBase {
  /** Legend entry; series without a label are not listed. */
  readonly label?: string;
  /** `#rrggbb`; default: the next palette colour. */
  readonly color?: string;
  readonly opacity?: number;
}

/** A polyline through (x[i], y[i]); NaN or (on log axes) non-positive values break the line. */
export interface LineSeries extends SeriesBase {
  readonly kind: 'line';
  readonly x: Numbers;
  readonly y: Numbers;
  /** Stroke width in px (default 1.75). */
  readonly width?: number;
  /** Dash pattern in px, e.g. [6, 4]. */
  readonly dash?: readonly number[];
  /** Also draw markers at the points. */
  readonly marker?: MarkerShape;
  readonly markerSize?: number;
}

export interface ScatterSeries extends SeriesBase {
  readonly kind: 'scatter';
  readonly x: Numbers;
  readonly y: Numbers;
  readonly marker?: MarkerShape;
  /** Marker diameter in px (default 6). */
  readonly size?: number;
}

/** Arrows from (x, y) along (u, v). Lengths are scaled so the longest arrow spans `maxLength` px. */
export interface QuiverSeries extends SeriesBase {
  readonly kind: 'quiver';
  readonly x: Numbers;
  readonly y: Numbers;
  readonly u: Numbers;
  readonly v: Numbers;
  /** Length in px of the longest arrow (default: 0.9 of the grid spacing, estimated from the points). */
  readonly maxLength?: number;
  readonly width?: number;
}

/** Several polylines drawn as one series (streamlines, families of trajectories). */
export interface PolylinesSeries extends SeriesBase {
  readonly kind: 'polylines';
  readonly lines: ReadonlyArray<{ readonly x: Numbers; readonly y: Numbers }>;
  readonly width?: number;
  /** Draw a small arrowhead at the middle of each polyline, pointing along it (for streamlines). */
  readonly arrows?: boolean;
}

/** The region between `lower` and `upper` over `x` (uncertainty bands). */
export interface BandSeries extends SeriesBase {
  readonly kind: 'band';
  readonly x: Numbers;
  readonly lower: Numbers;
  readonly upper: Numbers;
}

export type Series = LineSeries | ScatterSeries | QuiverSeries | PolylinesSeries | BandSeries;

export type AxisScale = 'linear' | 'log';
export type LegendPosition = 'auto' | 'none' | 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

export interface Axes {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly xScale?: AxisScale;
  readonly yScale?: AxisScale;
  /** Fixed limits; default: the data range plus a small margin. */
  readonly xLimits?: readonly [number, number];
  readonly yLimits?: readonly [number, number];
  /** `equal`: one data unit is as long in x as in y (phase portraits). Default `auto`. */
  readonly aspect?: 'auto' | 'equal';
  /** Default `auto`: the corner that hides the fewest data points. */
  readonly legend?: LegendPosition;
  /** Grid lines at the ticks (default true). */
  readonly grid?: boolean;
  readonly series: readonly Series[];
}

export interface Figure {
  /** Size in CSS pixels (the PNG is `scale` times larger). Defaults 640 × 480. */
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
  /** Panels per row (default: all in one row, at most 3). */
  readonly columns?: number;
  readonly panels: readonly Axes[];
}

/** Checks a figure and reports the first problem with the panel, series and field named. */
export function validateFigure(figure: Figure): void {
  const where = (p: number, s?: number) => `figure.panels[${p}]${s === undefined ? '' : `.series[${s}]`}`;
  if (!figure.panels || typeof figure.panels.length !== 'number' || figure.panels.length === 0) {
    throw new VizError('invalidFigure', 'figure.panels must be a non-empty array of axes');
  }
  for (const key of ['width', 'height'] as const) {
    const v = figure[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 50 && v <= 10000)) {
      throw new VizError(
        'invalidFigure',
        `figure.${key} must be a number of pixels in [50, 10000], got ${v}`,
      );
    }
  }
  figure.panels.forEach((axes, p) => {
    for (const key of ['xLimits', 'yLimits'] as const) {
      const lim = axes[key];
      if (lim && !(Number.isFinite(lim[0]) && Number.isFinite(lim[1]) && lim[0] < lim[1])) {
        throw new VizError(
          'invalidFigure',
          `${where(p)}.${key} must be finite [low, high] with low < high, got [${lim.join(', ')}]`,
        );
      }
      const scale = key === 'xLimits' ? axes.xScale : axes.yScale;
      if (lim && scale === 'log' && !(lim[0] > 0)) {
        throw new VizError(
          'invalidFigure',
          `${where(p)}.${key} must be positive on a log axis, got [${lim.join(', ')}]`,
        );
      }
    }
    axes.series.forEach((s, i) => {
      const same = (a: string, b: string) => {
        const la = (s as unknown as Record<string, Numbers>)[a].length;
        const lb = (s as unknown as Record<string, Numbers>)[b].length;
        if (la !== lb)
          throw new VizError('invalidFigure', `${where(p, i)}: ${a} has ${la} values but ${b} has ${lb}`);
      };
      if (s.kind === 'line' || s.kind === 'scatter') same('x', 'y');
      if (s.kind === 'quiver') {
        same('x', 'y');
        same('x', 'u');
        same('x', 'v');
      }
      if (s.kind === 'band') {
        same('x', 'lower');
        same('x', 'upper');
      }
      if (s.kind === 'polylines') {
        s.lines.forEach((l, j) => {
          if (l.x.length !== l.y.length) {
            throw new VizError(
              'invalidFigure',
              `${where(p, i)}.lines[${j}]: x has ${l.x.length} values but y has ${l.y.length}`,
            );
          }
        });
      }
      if (s.opacity !== undefined && !(s.opacity >= 0 && s.opacity <= 1)) {
        throw new VizError('invalidFigure', `${where(p, i)}.opacity must be in [0, 1], got ${s.opacity}`);
      }
    });
  });
}
