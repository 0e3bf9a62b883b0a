/**
 * The recurrent baseline of the latent-ODE experiment (Chen et al., NeurIPS 2018, Table 2): an Elman RNN
 * that reads a row's observations forwards in time with input [x_k, t_k − t_{k−1}] and predicts the next
 * observation from [h_k, t_{k+1} − t_k] with a tanh MLP, trained by mean squared error on the next
 * observation. Extrapolation feeds its own predictions back in. Missing values enter the RNN as 0 and are
 * left out of the loss. Inputs may be scaled (`inputScale`) to order one; predictions are in the data's units.
 *
 * Step k of the RNN reads block k = [h_k; x_k; t_k − t_{k−1}; 1] (feature-major, see feature-major.ts), so
 * the prediction of observation k + 1 reads block k + 1, whose time row already holds t_{k+1} − t_k: the
 * output MLP's first layer takes the state rows and that time row and gives the observation rows zero weight.
 */
import type { Rng } from '../random/index.js';
import { Workspace } from '../tensor/workspace.js';
import {
  addMlp,
  addRnn,
  allocRnn,
  type Mlp,
  PackedMlp,
  type PackedWeights,
  ParameterLayout,
  packRnnCell,
  paddedWidth,
  type RnnBuffers,
  type RnnCell,
  rnnBackward,
  rnnForward,
  rnnInputRow,
  rnnState,
} from './feature-major.js';
import { inputScaleOption, type ObservationBatch } from './latent-ode-batch.js';

export interface RnnBaselineOptions {
  readonly obsDim: number;
  readonly hidden?: number;
  readonly outputHidden?: number;
  /**
   * Factors applied to the RNN's inputs, one per observed variable, then one for the time gaps (default all
   * 1), as `LatentOdeOptions.encoderInputScale`; predictions stay in the data's units.
   */
  readonly inputScale?: readonly number[];
}

interface Pass {
  readonly rows: number;
  readonly slots: number;
  readonly width: number;
  readonly cell: PackedWeights;
  readonly output: PackedMlp;
  readonly rnn: RnnBuffers;
  /** Hidden activations of the output MLP for the prediction from each state 1 … slots − 1. */
  readonly hidden: number[][];
  /** [obsDim, width] predictions and their gradients, one block per state. */
  readonly pred: number[];
  readonly gPred: number[];
}

export class RnnBaseline {
  readonly obsDim: number;
  readonly inputScale: readonly number[];
  readonly parameters: Float64Array;
  readonly gradients: Float64Array;
  private readonly cell: RnnCell;
  private readonly output: Mlp;
  private readonly trainWs = new Workspace();
  private readonly evalWs = new Workspace();
  private pass: Pass | null = null;

  constructor(options: RnnBaselineOptions, rng: Rng) {
    const hidden = options.hidden ?? 25;
    const outputHidden = options.outputHidden ?? 20;
    for (const [name, v] of Object.entries({ obsDim: options.obsDim, hidden, outputHidden })) {
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`RnnBaseline: ${name} must be a positive integer, got ${v}`);
      }
    }
    this.obsDim = options.obsDim;
    this.inputScale = inputScaleOption('RnnBaseline: inputScale', options.inputScale, this.obsDim);
    const layout = new ParameterLayout();
    this.cell = addRnn(layout, this.obsDim + 1, hidden);
    this.output = addMlp(layout, hidden + 1, outputHidden, this.obsDim);
    this.parameters = layout.initialise(rng);
    this.gradients = new Float64Array(layout.size);
  }

  /** The output MLP packed to read a state block: state rows, then (skipping the observation rows) the time gap. */
  private packOutput(ws: Workspace, K: number, width: number): PackedMlp {
    const hd = this.cell.hidden;
    const first = this.output.layers[0];
    return new PackedMlp(ws, this.output, K, width, [
      { column: 0, width: hd, theta: first.weight, rowStride: hd + 1 },
      { column: hd + this.obsDim, width: 1, theta: first.weight + hd, rowStride: hd + 1 },
    ]);
  }

  private makePass(rows: number, slots: number): Pass {
    const p = this.pass;
    if (p !== null && p.rows === rows && p.slots === slots) return p;
    const ws = this.trainWs;
    ws.reset();
    const width = paddedWidth(rows);
    const cell = packRnnCell(ws, this.cell);
    const output = this.packOutput(ws, cell.K, width);
    const rnn = allocRnn(ws, this.cell, width, slots);
    const hidden: number[][] = [];
    const pred: number[] = [];
    const gPred: number[] = [];
    for (let k = 0; k + 1 < slots; k++) {
      hidden.push(output.allocHidden(ws, width));
      pred.push(ws.alloc(this.obsDim * width));
      gPred.push(ws.alloc(this.obsDim * width));
    }
    this.pass = { rows, slots, width, cell, output, rnn, hidden, pred, gPred };
    return this.pass;
  }

  /** Writes the RNN inputs in time order; returns the idle columns of each step (rows past their last observation). */
  private writeInputs(ws: Workspace, rnn: RnnBuffers, batch: ObservationBatch): Int32Array[] | null {
    const { rows, slots, obsDim, grid, index, values } = batch;
    const h = ws.heap;
    const width = rnn.width;
    const idle: number[][] = [];
    let any = false;
    const scale = this.inputScale;
    for (let k = 0; k < slots; k++) {
      const row = rnnInputRow(rnn, k, 0);
      const list: number[] = [];
      for (let r = 0; r < rows; r++) {
        const g = index[r * slots + k];
        if (g < 0) {
          list.push(r);
          for (let d = 0; d <= obsDim; d++) h[row + d * width + r] = 0;
          continue;
        }
        for (let d = 0; d < obsDim; d++) {
          const v = values[(r * slots + k) * obsDim + d];
          h[row + d * width + r] = Number.isNaN(v) ? 0 : v * scale[d];
        }
        const gap = grid[g] - (k === 0 ? grid[0] : grid[index[r * slots + k - 1]]);
        h[row + obsDim * width + r] = gap * scale[obsDim];
      }
      if (list.length > 0) any = true;
      idle.push(list);
    }
    return any ? idle.map((l) => Int32Array.from(l)) : null;
  }

  /** Mean squared next-observation error per observed value; sets `gradients` (overwriting). */
  lossAndGradient(batch: ObservationBatch): { loss: number } {
    this.gradients.fill(0);
    const { rows, slots, obsDim, index, values } = batch;
    const pass = this.makePass(rows, slots);
    const ws = this.trainWs;
    const { cell, output, rnn, width } = pass;
    cell.pack(ws, this.parameters);
    output.pack(ws, this.parameters);
    const inactive = this.writeInputs(ws, rnn, batch);
    rnnForward(ws, cell, rnn, inactive);
    const h = ws.heap;
    let observed = 0;
    for (let r = 0; r < rows; r++) {
      for (let k = 1; k < slots; k++) {
        if (index[r * slots + k] < 0) continue;
        for (let d = 0; d < obsDim; d++) if (!Number.isNaN(values[(r * slots + k) * obsDim + d])) observed++;
      }
    }
    const scale = 2 / Math.max(1, observed);
    let sq = 0;
    for (let k = 0; k + 1 < slots; k++) {
      const pred = pass.pred[k];
      const gPred = pass.gPred[k];
      output.forward(ws, rnnState(rnn, k + 1), width, pass.hidden[k], pred);
      h.fill(0, gPred, gPred + obsDim * width);
      for (let r = 0; r < rows; r++) {
        if (index[r * slots + k + 1] < 0) continue;
        for (let d = 0; d < obsDim; d++) {
          const target = values[(r * slots + k + 1) * obsDim + d];
          if (Number.isNaN(target)) continue;
          const diff = h[pred + d * width + r] - target;
          sq += diff * diff;
          h[gPred + d * width + r] = scale * diff;
        }
      }
    }
    h.fill(0, rnn.gA, rnn.gA + rnn.hidden * width);
    rnnBackward(ws, cell, rnn, inactive, (state, g) => {
      const k = state - 1;
      output.backward(ws, rnnState(rnn, state), width, pass.hidden[k], pass.gPred[k], g, rnn.hidden, true);
    });
    cell.unpack(ws, this.gradients);
    output.unpack(ws, this.gradients);
    return { loss: sq / Math.max(1, observed) };
  }

  /**
   * Reads each row's observations, then predicts at every time of `times` (all after the row's last
   * observation, increasing) feeding each prediction back in: returns [rows, times.length, obsDim].
   */
  extrapolate(batch: ObservationBatch, times: Float64Array): Float64Array {
    const { rows, slots, obsDim, grid, index } = batch;
    const ws = this.evalWs;
    ws.reset();
    const width = paddedWidth(rows);
    const cell = packRnnCell(ws, this.cell);
    const output = this.packOutput(ws, cell.K, width);
    const rnn = allocRnn(ws, this.cell, width, slots);
    const step = allocRnn(ws, this.cell, width, 1);
    const hidden = output.allocHidden(ws, width);
    const pred = ws.alloc(obsDim * width);
    cell.pack(ws, this.parameters);
    output.pack(ws, this.parameters);
    const inactive = this.writeInputs(ws, rnn, batch);
    rnnForward(ws, cell, rnn, inactive);
    const h = ws.heap;
    const hd = this.cell.hidden;
    const lastTime = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < slots; k++) if (index[r * slots + k] >= 0) lastTime[r] = grid[index[r * slots + k]];
    }
    // Block 0 of `step` holds the current state and the next input; one RNN step moves its state to block 1.
    const block0 = rnnState(step, 0);
    const block1 = rnnState(step, 1);
    h.copyWithin(block0, rnnState(rnn, slots), rnnState(rnn, slots) + hd * width);
    const T = times.length;
    const out = new Float64Array(rows * T * obsDim);
    const dtRow = rnnInputRow(step, 0, obsDim);
    for (let j = 0; j < T; j++) {
      for (let r = 0; r < rows; r++) {
        h[dtRow + r] = (times[j] - lastTime[r]) * this.inputScale[obsDim];
        lastTime[r] = times[j];
      }
      output.forward(ws, block0, width, hidden, pred);
      for (let d = 0; d < obsDim; d++) {
        const row = rnnInputRow(step, 0, d);
        for (let r = 0; r < rows; r++) {
          const v = h[pred + d * width + r];
          out[(r * T + j) * obsDim + d] = v;
          h[row + r] = v * this.inputScale[d];
        }
      }
      // rnnForward starts from a zero state; run the one step by hand from the current one.
      ws.matmul(hd, width, cell.K, cell.w, cell.K, 1, block0, block1, false);
      ws.tanh(hd * width, block1, block1);
      h.copyWithin(block0, block1, block1 + hd * width);
    }
    return out;
  }
}
