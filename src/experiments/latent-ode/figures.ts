/** Figures of the latent-ODE experiment: reconstructions/extrapolations of test spirals and loss curves. */
import type { SpiralDataset } from '../../data/spirals.js';
import type { Axes, Figure, Series } from '../../viz/figure.js';
import { seriesColor } from '../../viz/palette.js';
import { combineFigures, linePlot } from '../../viz/plots.js';

/**
 * One panel per test spiral (as in the paper's Figure 8): the noise-free curve (grey), the observed points,
 * and the model's curve over the observed window (solid) and the extrapolation (dashed).
 * `predicted` is [count, data.times.length, 2].
 */
export function spiralPanels(
  data: SpiralDataset,
  obs: Int32Array,
  n: number,
  predicted: Float64Array,
  rows: readonly number[],
  title: string,
): Figure {
  const T = data.times.length;
  const W = data.trainPoints;
  const panels: Figure[] = rows.map((r) => {
    const column = (src: Float64Array, from: number, to: number, d: number) =>
      Float64Array.from({ length: to - from }, (_, j) => src[(r * T + from + j) * 2 + d]);
    const ox = Float64Array.from({ length: n }, (_, k) => data.noisy[(r * T + obs[r * n + k]) * 2]);
    const oy = Float64Array.from({ length: n }, (_, k) => data.noisy[(r * T + obs[r * n + k]) * 2 + 1]);
    const series: Series[] = [
      {
        kind: 'line',
        x: column(data.clean, 0, T, 0),
        y: column(data.clean, 0, T, 1),
        label: 'true',
        color: '#9e9e9e',
        width: 1.25,
      },
      { kind: 'scatter', x: ox, y: oy, label: 'observed', color: seriesColor(0), size: 4 },
      {
        kind: 'line',
        x: column(predicted, 0, W, 0),
        y: column(predicted, 0, W, 1),
        label: 'reconstruction',
        color: seriesColor(1),
      },
      {
        kind: 'line',
        x: column(predicted, W - 1, T, 0),
        y: column(predicted, W - 1, T, 1),
        label: 'extrapolation',
        color: seriesColor(3),
        dash: [6, 4],
      },
    ];
    const axes: Axes = {
      title: `spiral ${r} (${data.clockwise[r] ? 'cw' : 'ccw'})`,
      aspect: 'equal',
      series,
    };
    return { panels: [axes] };
  });
  return combineFigures(panels, { title, columns: Math.min(3, panels.length) });
}

/** Training loss against iteration (linear axis: the negative ELBO may be negative). */
export function lossFigure(losses: readonly number[], title: string): Figure {
  return linePlot(
    { y: Float64Array.from(losses), label: 'loss' },
    { title, xLabel: 'iteration', yLabel: 'loss', width: 560, height: 380 },
  );
}
