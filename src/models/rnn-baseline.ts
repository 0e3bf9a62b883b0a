/**
 * The recurrent baseline of the latent-ODE experiment (Chen et al., NeurIPS 2018, Table 2): an Elman RNN
 * that reads a row's observations forwards in time with input [x_k, t_k − t_{k−1}] and predicts the next
 * observation from [h_k, t_{k+1} − t_k] with a tanh MLP, trained by mean squared error on the next
 * observation. Extrapolation feeds its own predictions back in. Missing values enter the RNN as 0 and are
 * left out of the loss.
 */
import type { Rng } from '../random/index.js';
import type { ObservationBatch } from './latent-ode-batch.js';
import {
  addMlp,
  addRnn,
  type Mlp,
  mlpBackward,
  mlpForward,
  ParameterLayout,
  type RnnLayer,
  rnnBackward,
  rnnForward,
  Scratch,
} from './latent-ode-kernels.js';

export interface RnnBaselineOptions {
  readonly obsDim: number;
  readonly hidden?: number;
  readonly outputHidden?: number;
}

export class RnnBaseline {
  readonly obsDim: number;
  readonly parameters: Float64Array;
  readonly gradients: Float64Array;
  private readonly cell: RnnLayer;
  private readonly output: Mlp;
  private readonly scratch = new Scratch();

  constructor(options: RnnBaselineOptions, rng: Rng) {
    const hidden = options.hidden ?? 25;
    const outputHidden = options.outputHidden ?? 20;
    for (const [name, v] of Object.entries({ obsDim: options.obsDim, hidden, outputHidden })) {
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`RnnBaseline: ${name} must be a positive integer, got ${v}`);
      }
    }
    this.obsDim = options.obsDim;
    const layout = new ParameterLayout();
    this.cell = addRnn(layout, this.obsDim + 1, hidden);
    this.output = addMlp(layout, hidden + 1, outputHidden, this.obsDim);
    this.parameters = layout.initialise(rng);
    this.gradients = new Float64Array(layout.size);
  }

  /** RNN inputs [slots, rows, obsDim + 1] in time order, with the activity mask. */
  private inputs(batch: ObservationBatch): { inputs: Float64Array; active: Uint8Array } {
    const { rows, slots, obsDim, grid, index, values } = batch;
    const inDim = obsDim + 1;
    const inputs = this.scratch.zeros('inputs', slots * rows * inDim);
    const active = new Uint8Array(slots * rows);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < slots; k++) {
        const g = index[r * slots + k];
        if (g < 0) continue;
        active[k * rows + r] = 1;
        const o = (k * rows + r) * inDim;
        for (let d = 0; d < obsDim; d++) {
          const v = values[(r * slots + k) * obsDim + d];
          inputs[o + d] = Number.isNaN(v) ? 0 : v;
        }
        inputs[o + obsDim] = grid[g] - (k === 0 ? grid[0] : grid[index[r * slots + k - 1]]);
      }
    }
    return { inputs, active };
  }

  /** Mean squared next-observation error per observed value; sets `gradients` (overwriting). */
  lossAndGradient(batch: ObservationBatch): { loss: number } {
    this.gradients.fill(0);
    const { rows, slots, obsDim, grid, index, values } = batch;
    const hd = this.cell.hidden;
    const sd = this.cell.stride;
    const theta = this.parameters;
    const { inputs, active } = this.inputs(batch);
    const states = this.scratch.get('states', (slots + 1) * rows * sd);
    rnnForward(theta, this.cell, inputs, active, slots, rows, states);
    // One prediction per (row, k) with an observation at k + 1: from state after reading slot k.
    let count = 0;
    for (let r = 0; r < rows; r++)
      for (let k = 0; k + 1 < slots; k++) if (index[r * slots + k + 1] >= 0) count++;
    const pairs = new Int32Array(2 * count);
    for (let r = 0, p = 0; r < rows; r++) {
      for (let k = 0; k + 1 < slots; k++) {
        if (index[r * slots + k + 1] < 0) continue;
        pairs[p++] = r;
        pairs[p++] = k;
      }
    }
    const x = this.scratch.get('head.x', count * (hd + 1));
    for (let p = 0; p < count; p++) {
      const r = pairs[2 * p];
      const k = pairs[2 * p + 1];
      const so = ((k + 1) * rows + r) * sd;
      for (let j = 0; j < hd; j++) x[p * (hd + 1) + j] = states[so + j];
      x[p * (hd + 1) + hd] = grid[index[r * slots + k + 1]] - grid[index[r * slots + k]];
    }
    const hidden = this.scratch.get('head.h', count * this.output.hiddenWidth);
    const pred = this.scratch.get('head.out', count * obsDim);
    mlpForward(theta, this.output, x, 0, hd + 1, count, hidden, pred);
    let observed = 0;
    for (let p = 0; p < count; p++) {
      const vo = (pairs[2 * p] * slots + pairs[2 * p + 1] + 1) * obsDim;
      for (let d = 0; d < obsDim; d++) if (!Number.isNaN(values[vo + d])) observed++;
    }
    const gPred = this.scratch.zeros('head.g', count * obsDim);
    let sq = 0;
    for (let p = 0; p < count; p++) {
      const vo = (pairs[2 * p] * slots + pairs[2 * p + 1] + 1) * obsDim;
      for (let d = 0; d < obsDim; d++) {
        const target = values[vo + d];
        if (Number.isNaN(target)) continue;
        const diff = pred[p * obsDim + d] - target;
        sq += diff * diff;
        gPred[p * obsDim + d] = (2 * diff) / Math.max(1, observed);
      }
    }
    const gx = this.scratch.zeros('head.gx', count * (hd + 1));
    mlpBackward(theta, this.gradients, this.output, x, 0, hd + 1, count, hidden, gPred, gx, this.scratch);
    const gStates = this.scratch.zeros('gstates', (slots + 1) * rows * sd);
    for (let p = 0; p < count; p++) {
      const so = ((pairs[2 * p + 1] + 1) * rows + pairs[2 * p]) * sd;
      for (let j = 0; j < hd; j++) gStates[so + j] += gx[p * (hd + 1) + j];
    }
    rnnBackward(theta, this.gradients, this.cell, inputs, active, slots, rows, states, gStates, this.scratch);
    return { loss: sq / Math.max(1, observed) };
  }

  /**
   * Reads each row's observations, then predicts at every time of `times` (all after the row's last
   * observation, increasing) feeding each prediction back in: returns [rows, times.length, obsDim].
   */
  extrapolate(batch: ObservationBatch, times: Float64Array): Float64Array {
    const { rows, slots, obsDim, grid, index } = batch;
    const hd = this.cell.hidden;
    const sd = this.cell.stride;
    const theta = this.parameters;
    const { inputs, active } = this.inputs(batch);
    const states = this.scratch.get('states', (slots + 1) * rows * sd);
    rnnForward(theta, this.cell, inputs, active, slots, rows, states);
    const h = states.slice(slots * rows * sd, (slots + 1) * rows * sd);
    const lastTime = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < slots; k++) if (index[r * slots + k] >= 0) lastTime[r] = grid[index[r * slots + k]];
    }
    const T = times.length;
    const out = new Float64Array(rows * T * obsDim);
    const x = new Float64Array(rows * (hd + 1));
    const hidden = new Float64Array(rows * this.output.hiddenWidth);
    const pred = new Float64Array(rows * obsDim);
    const stepInput = new Float64Array(rows * (obsDim + 1));
    const next = new Float64Array(2 * rows * sd);
    for (let j = 0; j < T; j++) {
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < hd; i++) x[r * (hd + 1) + i] = h[r * sd + i];
        x[r * (hd + 1) + hd] = times[j] - lastTime[r];
      }
      mlpForward(theta, this.output, x, 0, hd + 1, rows, hidden, pred);
      for (let r = 0; r < rows; r++) {
        for (let d = 0; d < obsDim; d++) {
          out[(r * T + j) * obsDim + d] = pred[r * obsDim + d];
          stepInput[r * (obsDim + 1) + d] = pred[r * obsDim + d];
        }
        stepInput[r * (obsDim + 1) + obsDim] = times[j] - lastTime[r];
        lastTime[r] = times[j];
      }
      // One RNN step on the prediction: states [2, rows, stride] with the current h as the first block.
      next.set(h, 0);
      rnnForward(theta, this.cell, stepInput, null, 1, rows, next, true);
      h.set(next.subarray(rows * sd));
    }
    return out;
  }
}
