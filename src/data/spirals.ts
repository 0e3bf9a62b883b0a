/**
 * The two-dimensional spiral data set of the latent-ODE experiment (Chen et al., NeurIPS 2018, section 5.1).
 *
 * Every trajectory follows an Archimedean spiral r = a + bθ. Following the torchdiffeq example, the angle is
 * a grid of `totalPoints` values over [start, stop] = [0, 6π] with a = 0, b = 0.3, and the time of a sample
 * is its angle offset from the trajectory's first sample, so one time unit turns the spiral by one radian.
 * Each trajectory starts at its own random grid index; half of them run counter-clockwise with the angle
 * increasing (moving outwards), the other half clockwise with the angle decreasing (moving inwards), all
 * centred on the origin by default so the direction has to be read from the observations, not from the
 * position (`centre` moves the two families apart).
 * `trainPoints` samples form the observed window and `extrapolatePoints` further samples are held out for
 * extrapolation. Gaussian noise (`noiseStd`, default 0.3 as in torchdiffeq's example) is added to the observations; the clean curve is
 * kept for evaluation.
 */
import type { Rng } from '../random/index.js';

export interface SpiralOptions {
  /** Number of trajectories (default 1000). */
  readonly count?: number;
  /** Samples in the observed window (default 100). */
  readonly trainPoints?: number;
  /** Samples after the window, used for extrapolation (default 100). */
  readonly extrapolatePoints?: number;
  /** Standard deviation of the observation noise (default 0.3). */
  readonly noiseStd?: number;
  /** Spiral parameters r = a + bθ (defaults 0 and 0.3). */
  readonly a?: number;
  readonly b?: number;
  /** Angle grid: `totalPoints` values over [start, stop] (defaults 1000 over [0, 6π]). */
  readonly start?: number;
  readonly stop?: number;
  readonly totalPoints?: number;
  /**
   * Counter-clockwise spirals are centred at (+centre, 0), clockwise ones at (−centre, 0) (default 0: both on
   * the origin; torchdiffeq's example separates its two families by 10).
   */
  readonly centre?: number;
}

export interface SpiralDataset {
  readonly count: number;
  readonly trainPoints: number;
  readonly extrapolatePoints: number;
  /** Sample times, length trainPoints + extrapolatePoints, starting at 0 and equally spaced. */
  readonly times: Float64Array;
  /** Noise-free positions [count, times.length, 2], row-major. */
  readonly clean: Float64Array;
  /** Noisy observations, same layout as `clean`. */
  readonly noisy: Float64Array;
  /** 1 for a clockwise trajectory, 0 for counter-clockwise. */
  readonly clockwise: Uint8Array;
  /** Grid index of each trajectory's first sample (its angle is start + index·step). */
  readonly start: Int32Array;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`makeSpirals: ${name} must be a positive integer, got ${v}`);
  }
  return v;
}

/** Generates the spiral data set; deterministic given the state of `rng`. */
export function makeSpirals(rng: Rng, options: SpiralOptions = {}): SpiralDataset {
  const count = positiveInt('count', options.count ?? 1000);
  const trainPoints = positiveInt('trainPoints', options.trainPoints ?? 100);
  const extrapolatePoints = positiveInt('extrapolatePoints', options.extrapolatePoints ?? 100);
  const totalPoints = positiveInt('totalPoints', options.totalPoints ?? 1000);
  const noiseStd = options.noiseStd ?? 0.3;
  if (!(noiseStd >= 0)) throw new RangeError(`makeSpirals: noiseStd must be >= 0, got ${noiseStd}`);
  const a = options.a ?? 0;
  const b = options.b ?? 0.3;
  const start = options.start ?? 0;
  const stop = options.stop ?? 6 * Math.PI;
  const centre = options.centre ?? 0;
  if (!Number.isFinite(centre)) throw new RangeError(`makeSpirals: centre must be finite, got ${centre}`);
  const length = trainPoints + extrapolatePoints;
  // Clockwise trajectories walk the grid downwards, so a start index must leave `length` samples either way.
  if (2 * length > totalPoints) {
    throw new RangeError(
      `makeSpirals: totalPoints (${totalPoints}) must be at least twice trainPoints + extrapolatePoints (${length})`,
    );
  }
  const step = (stop - start) / (totalPoints - 1);
  const times = new Float64Array(length);
  for (let j = 0; j < length; j++) times[j] = j * step;
  const clean = new Float64Array(count * length * 2);
  const noisy = new Float64Array(count * length * 2);
  const clockwise = new Uint8Array(count);
  const starts = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const cw = i % 2 === 1;
    clockwise[i] = cw ? 1 : 0;
    // Start index in [length, totalPoints - length]: room for `length` samples in both directions.
    const first = length + rng.int(totalPoints - 2 * length + 1);
    starts[i] = first;
    for (let j = 0; j < length; j++) {
      const theta = start + (cw ? first - j : first + j) * step;
      const r = a + b * theta;
      const o = (i * length + j) * 2;
      clean[o] = r * Math.cos(theta) + (cw ? -centre : centre);
      clean[o + 1] = r * Math.sin(theta);
      noisy[o] = clean[o] + noiseStd * rng.normal();
      noisy[o + 1] = clean[o + 1] + noiseStd * rng.normal();
    }
  }
  return { count, trainPoints, extrapolatePoints, times, clean, noisy, clockwise, start: starts };
}

/**
 * Draws, for each of `rows` trajectories, `n` distinct sample indices in [0, window), sorted increasingly: the
 * irregular observation times the model is trained on. Returns [rows, n] row-major.
 */
export function sampleObservationIndices(rng: Rng, rows: number, window: number, n: number): Int32Array {
  if (!Number.isInteger(n) || n < 1 || n > window) {
    throw new RangeError(`sampleObservationIndices: n must be an integer in [1, ${window}], got ${n}`);
  }
  const out = new Int32Array(rows * n);
  for (let i = 0; i < rows; i++) {
    const perm = rng.permutation(window).subarray(0, n).sort();
    out.set(perm, i * n);
  }
  return out;
}
