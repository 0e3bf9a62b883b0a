/**
 * Irregularly observed trajectories in the layout the latent ODE and the RNN baseline train on: every row has
 * up to `slots` observations, each at a time of one shared sorted solver grid (the union of the batch's
 * observation times), so one ODE solve on the grid serves every row and each row gathers its own times.
 */

export interface ObservationBatch {
  readonly rows: number;
  readonly obsDim: number;
  /** Observation slots per row; a row with fewer observations leaves its trailing slots at index −1. */
  readonly slots: number;
  /** Sorted solver times; grid[0] is the time of the initial latent state z(t0) (0 for all data here). */
  readonly grid: Float64Array;
  /** [rows, slots] grid index of each observation, strictly increasing within a row, −1 for an unused slot. */
  readonly index: Int32Array;
  /** [rows, slots, obsDim] observed values; NaN marks a missing value (masked out of the likelihood). */
  readonly values: Float64Array;
  /** [rows] grid index where each row's observation window ends (upper limit of the Poisson integral). */
  readonly windowEnd: Int32Array;
}

/**
 * Builds a batch from rows of (times, values) that all start at or after 0; the grid is the sorted union of
 * 0, the observation times and `extraTimes`.
 */
export function batchFromSeries(
  series: readonly { readonly times: ArrayLike<number>; readonly values: ArrayLike<number> }[],
  obsDim: number,
  extraTimes: ArrayLike<number> = [],
): ObservationBatch {
  const all = new Set<number>([0]);
  let slots = 0;
  for (const s of series) {
    for (let k = 0; k < s.times.length; k++) all.add(s.times[k]);
    slots = Math.max(slots, s.times.length);
  }
  for (let k = 0; k < extraTimes.length; k++) all.add(extraTimes[k]);
  const grid = Float64Array.from([...all].sort((x, y) => x - y));
  const position = new Map<number, number>();
  for (let i = 0; i < grid.length; i++) position.set(grid[i], i);
  const rows = series.length;
  const index = new Int32Array(rows * slots).fill(-1);
  const values = new Float64Array(rows * slots * obsDim).fill(Number.NaN);
  const windowEnd = new Int32Array(rows);
  series.forEach((s, r) => {
    for (let k = 0; k < s.times.length; k++) {
      index[r * slots + k] = position.get(s.times[k]) as number;
      for (let d = 0; d < obsDim; d++) values[(r * slots + k) * obsDim + d] = s.values[k * obsDim + d];
    }
    windowEnd[r] = s.times.length > 0 ? index[r * slots + s.times.length - 1] : 0;
  });
  return { rows, obsDim, slots, grid, index, values, windowEnd };
}

/**
 * Rows [start, end) of `batch`, on the same grid: copies, or with `views` subarrays of the batch's own
 * arrays (no allocation; they change when the batch does).
 */
export function sliceRows(
  batch: ObservationBatch,
  start: number,
  end: number,
  views = false,
): ObservationBatch {
  if (
    !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= batch.rows)
  ) {
    throw new RangeError(`sliceRows: need 0 <= start <= end <= ${batch.rows}, got [${start}, ${end})`);
  }
  const { slots, obsDim } = batch;
  const cut = <T extends Int32Array | Float64Array>(a: T, from: number, to: number): T =>
    (views ? a.subarray(from, to) : a.slice(from, to)) as T;
  return {
    rows: end - start,
    obsDim,
    slots,
    grid: batch.grid,
    index: cut(batch.index, start * slots, end * slots),
    values: cut(batch.values, start * slots * obsDim, end * slots * obsDim),
    windowEnd: cut(batch.windowEnd, start, end),
  };
}

/**
 * Factors that bring the recognition RNN's inputs to order one for data like `batch` (see
 * `LatentOdeOptions.encoderInputScale`): 1/standard deviation of each observed variable over the values
 * present, then 1/mean time gap between a row's consecutive observations (its first measured from grid[0]).
 * A variable that does not vary, or a batch without gaps, gets factor 1.
 */
export function encoderInputScale(batch: ObservationBatch): number[] {
  const { rows, slots, obsDim, grid, index, values } = batch;
  const sum = new Float64Array(obsDim);
  const squares = new Float64Array(obsDim);
  const count = new Float64Array(obsDim);
  let gaps = 0;
  let gapCount = 0;
  for (let r = 0; r < rows; r++) {
    let previous = grid[0];
    for (let k = 0; k < slots; k++) {
      const g = index[r * slots + k];
      if (g < 0) continue;
      gaps += grid[g] - previous;
      gapCount++;
      previous = grid[g];
      for (let d = 0; d < obsDim; d++) {
        const v = values[(r * slots + k) * obsDim + d];
        if (Number.isNaN(v)) continue;
        sum[d] += v;
        squares[d] += v * v;
        count[d]++;
      }
    }
  }
  const scale: number[] = [];
  for (let d = 0; d < obsDim; d++) {
    const mean = count[d] > 0 ? sum[d] / count[d] : 0;
    const variance = count[d] > 1 ? (squares[d] - count[d] * mean * mean) / (count[d] - 1) : 0;
    scale.push(variance > 0 ? 1 / Math.sqrt(variance) : 1);
  }
  const meanGap = gapCount > 0 ? gaps / gapCount : 0;
  scale.push(meanGap > 0 ? 1 / meanGap : 1);
  return scale;
}

/**
 * Validates a recurrent network's input factors (`encoderInputScale`, `inputScale`): obsDim + 1 finite
 * positive numbers, all 1 when not given. `what` names the option in the error.
 */
export function inputScaleOption(
  what: string,
  scale: readonly number[] | undefined,
  obsDim: number,
): readonly number[] {
  const value = scale ?? new Array<number>(obsDim + 1).fill(1);
  if (value.length !== obsDim + 1 || !value.every((v) => Number.isFinite(v) && v > 0)) {
    throw new RangeError(
      `${what} must hold obsDim + 1 = ${obsDim + 1} finite numbers > 0, got [${value.join(', ')}]`,
    );
  }
  return value;
}
