/** Figures of the spiral demo: trajectories against time, phase portrait, learned vector field, losses. */
import type { Figure } from '../../viz/figure.js';
import { PALETTE } from '../../viz/palette.js';
import { linePlot, lossCurve, phasePortrait, vectorField } from '../../viz/plots.js';

export interface SpiralFigureData {
  readonly t: Float64Array;
  /** True states, interleaved [x0, y0, x1, y1, …]. */
  readonly truth: Float64Array;
  /** The learned model's states from y(0), interleaved. */
  readonly learned: Float64Array;
  /** The learned vector field. */
  readonly field: (x: number, y: number) => readonly [number, number] | number[];
  readonly losses: readonly { iteration: number; loss: number }[];
  readonly evalLosses: readonly { iteration: number; loss: number }[];
}

function component(values: Float64Array, k: number): Float64Array {
  const out = new Float64Array(values.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = values[2 * i + k];
  return out;
}

export function spiralFigures(d: SpiralFigureData): Record<string, Figure> {
  const tx = component(d.truth, 0);
  const ty = component(d.truth, 1);
  const lx = component(d.learned, 0);
  const ly = component(d.learned, 1);
  const extent = Math.max(2.2, ...Array.from(tx, Math.abs), ...Array.from(ty, Math.abs)) * 1.1;
  return {
    trajectories: linePlot(
      [
        { x: d.t, y: tx, label: 'true x', width: 2.5, color: PALETTE[0] },
        { x: d.t, y: ty, label: 'true y', width: 2.5, color: PALETTE[1] },
        { x: d.t, y: lx, label: 'learned x', dash: [6, 4], color: PALETTE[0] },
        { x: d.t, y: ly, label: 'learned y', dash: [6, 4], color: PALETTE[1] },
      ],
      { title: 'Trajectories', xLabel: 't', yLabel: 'state', legend: 'top-right' },
    ),
    phase: phasePortrait(
      [
        { x: tx, y: ty, label: 'true' },
        { x: lx, y: ly, label: 'learned', dash: [6, 4] },
      ],
      { title: 'Phase portrait', xLabel: 'x', yLabel: 'y' },
    ),
    'vector-field': vectorField((x, y) => d.field(x, y) as [number, number], {
      title: 'Learned vector field',
      xRange: [-extent, extent],
      yRange: [-extent, extent],
      arrows: 17,
      trajectories: [{ x: lx, y: ly, label: 'learned trajectory' }],
    }),
    loss: lossCurve(
      [
        {
          label: 'minibatch loss',
          iterations: d.losses.map((l) => l.iteration),
          values: d.losses.map((l) => l.loss),
        },
        {
          label: 'whole-trajectory loss',
          iterations: d.evalLosses.map((l) => l.iteration),
          values: d.evalLosses.map((l) => l.loss),
        },
      ],
      { title: 'Mean absolute error', xLabel: 'iteration', smoothing: 20 },
    ),
  };
}
