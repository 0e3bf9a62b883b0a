/**
 * Turns spiral data and observation subsets into {@link ObservationBatch}es, and measures extrapolation error.
 */
import type { SpiralDataset } from '../../data/spirals.js';
import type { ObservationBatch } from '../../models/latent-ode-batch.js';

/**
 * A training batch of the given spiral rows: each row's `n` observation indices (obs [count, n]) into the
 * observed window. The solver grid is the sorted union of the batch's observation times and the window end
 * (the upper limit of the Poisson integral); grid[0] = 0 is the time of z(t0).
 *
 * `starts` (optional, one per row) drops a row's first starts[b] observations and measures its times from
 * the first one kept: the later part of a trajectory is a trajectory that starts later, so this adds
 * training windows of every length that begin anywhere on the curve. Shifted times stay on the sample grid,
 * so the solver grid does not grow.
 *
 * `reuse` (optional): a batch this function returned before, for the same number of rows and `n`, whose
 * arrays are filled again instead of allocating new ones (it must not be in use any more): a training loop
 * builds a 1000-row batch every iteration, and fresh arrays cost more than filling them.
 */
export function spiralTrainingBatch(
  data: SpiralDataset,
  obs: Int32Array,
  n: number,
  rows: ArrayLike<number>,
  starts?: ArrayLike<number>,
  reuse?: ObservationBatch,
): ObservationBatch {
  const T = data.times.length;
  const window = data.trainPoints;
  const count = rows.length;
  // Sample index of each kept observation, measured from the row's first kept one.
  const shift = new Int32Array(count);
  const first = new Int32Array(count);
  for (let b = 0; b < count; b++) {
    const k = starts === undefined ? 0 : starts[b];
    if (!(Number.isInteger(k) && k >= 0 && k < n)) {
      throw new RangeError(`spiralTrainingBatch: starts[${b}] must be an integer in [0, ${n}), got ${k}`);
    }
    first[b] = k;
    shift[b] = k === 0 ? 0 : obs[rows[b] * n + k];
  }
  const used = new Uint8Array(window);
  used[0] = 1;
  used[window - 1] = 1;
  for (let b = 0; b < count; b++) {
    const at = rows[b] * n;
    const sh = shift[b];
    for (let k = first[b]; k < n; k++) used[obs[at + k] - sh] = 1;
    used[window - 1 - sh] = 1;
  }
  const position = new Int32Array(window).fill(-1);
  const times: number[] = [];
  for (let j = 0; j < window; j++) {
    if (used[j] === 0) continue;
    position[j] = times.length;
    times.push(data.times[j]);
  }
  const fits = reuse !== undefined && reuse.rows === count && reuse.slots === n && reuse.obsDim === 2;
  const index = fits ? reuse.index : new Int32Array(count * n);
  const values = fits ? reuse.values : new Float64Array(count * n * 2);
  const windowEnd = fits ? reuse.windowEnd : new Int32Array(count);
  index.fill(-1);
  values.fill(Number.NaN);
  const noisy = data.noisy;
  for (let b = 0; b < count; b++) {
    const r = rows[b];
    const f = first[b];
    const sh = shift[b];
    const at = r * n;
    const series = r * T;
    for (let k = f; k < n; k++) {
      const j = obs[at + k];
      const slot = b * n + k - f;
      index[slot] = position[j - sh];
      values[2 * slot] = noisy[2 * (series + j)];
      values[2 * slot + 1] = noisy[2 * (series + j) + 1];
    }
    windowEnd[b] = position[window - 1 - sh];
  }
  return { rows: count, obsDim: 2, slots: n, grid: Float64Array.from(times), index, values, windowEnd };
}

/** All rows of `data`, on the full sample grid (observed window and extrapolation times). */
export function spiralEvaluationBatch(data: SpiralDataset, obs: Int32Array, n: number): ObservationBatch {
  const T = data.times.length;
  const count = data.count;
  const values = new Float64Array(count * n * 2);
  for (let r = 0; r < count; r++) {
    for (let k = 0; k < n; k++) {
      const j = obs[r * n + k];
      values[(r * n + k) * 2] = data.noisy[(r * T + j) * 2];
      values[(r * n + k) * 2 + 1] = data.noisy[(r * T + j) * 2 + 1];
    }
  }
  const windowEnd = new Int32Array(count).fill(data.trainPoints - 1);
  return { rows: count, obsDim: 2, slots: n, grid: data.times, index: obs.slice(), values, windowEnd };
}

/**
 * Root-mean-square error against the noise-free curve over the extrapolation samples. `predicted` is
 * [count, predictedLength, 2] and its first time index corresponds to sample `predictedStart` (0 for a full
 * trajectory, `trainPoints` for an extrapolation-only prediction). `rows` (a 0/1 mask) restricts it to some
 * trajectories; with none selected the result is NaN.
 */
export function extrapolationRmse(
  data: SpiralDataset,
  predicted: Float64Array,
  predictedLength: number,
  predictedStart: number,
  rows?: Uint8Array,
): number {
  const T = data.times.length;
  let sq = 0;
  let n = 0;
  for (let r = 0; r < data.count; r++) {
    if (rows !== undefined && rows[r] === 0) continue;
    for (let j = data.trainPoints; j < T; j++) {
      const p = (r * predictedLength + (j - predictedStart)) * 2;
      const c = (r * T + j) * 2;
      for (let d = 0; d < 2; d++) {
        const e = predicted[p + d] - data.clean[c + d];
        sq += e * e;
        n++;
      }
    }
  }
  return Math.sqrt(sq / n);
}

/**
 * Which test trajectories extrapolate only over angles that the observed windows of training trajectories of
 * the same direction cover (1) and which run past them (0). Training windows start anywhere in the data
 * set's range, so the held-out samples of test trajectories near either end of it reach angles that no
 * training window shows.
 */
export function coveredByTraining(train: SpiralDataset, test: SpiralDataset): Uint8Array {
  // Per direction, the lowest and highest grid index any training window reaches.
  const lo = [Infinity, Infinity];
  const hi = [-Infinity, -Infinity];
  const W = train.trainPoints;
  for (let i = 0; i < train.count; i++) {
    const cw = train.clockwise[i];
    const a = cw ? train.start[i] - (W - 1) : train.start[i];
    const b = cw ? train.start[i] : train.start[i] + W - 1;
    lo[cw] = Math.min(lo[cw], a);
    hi[cw] = Math.max(hi[cw], b);
  }
  const T = test.times.length;
  const out = new Uint8Array(test.count);
  for (let i = 0; i < test.count; i++) {
    const cw = test.clockwise[i];
    // Grid indices of the first and last held-out samples.
    const a = cw ? test.start[i] - (T - 1) : test.start[i] + test.trainPoints;
    const b = cw ? test.start[i] - test.trainPoints : test.start[i] + T - 1;
    out[i] = a >= lo[cw] && b <= hi[cw] ? 1 : 0;
  }
  return out;
}
