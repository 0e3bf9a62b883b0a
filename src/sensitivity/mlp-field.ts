/**
 * A multilayer perceptron vector field f(t, y) = L_k(…σ(L_1(y^p))…) as fused typed-array kernels: the forward
 * pass and its vector–Jacobian product run as plain loops over the state (rows of the last dimension) and
 * over the layers' weights, read in place from the model's parameter tensors. Nothing is allocated per
 * evaluation; the activations of the last forward pass are kept in buffers sized once for the state.
 *
 * The field is autonomous (∂f/∂t = 0). Each layer is x ↦ act(x Wᵀ + b) with W of shape [out, in] (PyTorch's
 * layout) and an optional bias; the input may first be raised elementwise to an integer power p ≥ 1.
 */
import { wasmState, wasmTanh } from '../tensor/kernels-wasm.js';
import type { Tensor } from '../tensor/tensor.js';
import { SensitivityError } from './errors.js';
import type { FlatDynamics } from './flat-dynamics.js';

export type MlpActivation = 'identity' | 'tanh' | 'sigmoid';

export interface MlpLayer {
  /** Weight [out, in]. */
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** Applied after the affine map. */
  readonly activation: MlpActivation;
}

export interface MlpFieldOptions {
  readonly layers: readonly MlpLayer[];
  /** Elementwise power the state is raised to before the first layer (default 1). */
  readonly inputPower?: number;
  /** The state's shape; its last dimension is the first layer's input size. */
  readonly shape: readonly number[];
  /** All parameter tensors in θ order (the layout of thetaBar); every weight and bias must be among them. */
  readonly parameters: readonly Tensor[];
}

const IDENTITY = 0;
const TANH = 1;
const SIGMOID = 2;
const ACTIVATION_CODES: Record<MlpActivation, number> = { identity: IDENTITY, tanh: TANH, sigmoid: SIGMOID };

/** In-place tanh of the first n entries (the tensor core's SIMD kernel when available). */
function tanhInPlace(x: Float64Array, n: number): void {
  if (wasmState.enabled && n >= 16) {
    wasmTanh(x, x, n);
    return;
  }
  for (let i = 0; i < n; i++) x[i] = Math.tanh(x[i]);
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export class MlpField implements FlatDynamics {
  readonly parameters: readonly Tensor[];
  private readonly depth: number;
  private readonly rows: number;
  private readonly power: number;
  /** Widths d_0 … d_L (d_0 the input size, d_L the output size). */
  private readonly widths: Int32Array;
  private readonly weights: Float64Array[];
  private readonly biases: (Float64Array | null)[];
  private readonly activations: Int32Array;
  /** Offsets of each layer's weight and bias cotangent in thetaBar (−1 for no bias). */
  private readonly weightOffsets: Int32Array;
  private readonly biasOffsets: Int32Array;
  /** acts[l]: rows × d_l, the input to layer l (acts[0] = y^p); acts[L] the output. */
  private readonly acts: Float64Array[];
  private readonly gradA: Float64Array;
  private readonly gradB: Float64Array;
  /** Floats of acts[1..L], what {@link saveLast} keeps of one evaluation. */
  readonly savedSize: number;
  /** 2 → hidden → 2 with a linear output layer: the backward pass runs as one fused sweep. */
  private readonly planar: boolean;

  constructor(options: MlpFieldOptions) {
    const { layers, shape, parameters } = options;
    if (layers.length === 0)
      throw new SensitivityError('invalidFunction', 'layers', 'needs at least one layer');
    const power = options.inputPower ?? 1;
    if (!Number.isInteger(power) || power < 1) {
      throw new SensitivityError('invalidFunction', 'inputPower', `must be an integer >= 1, got ${power}`);
    }
    const inputs = shape.length === 0 ? 1 : shape[shape.length - 1];
    const size = shape.reduce((a, b) => a * b, 1);
    this.depth = layers.length;
    this.rows = inputs === 0 ? 0 : size / inputs;
    this.power = power;
    this.parameters = parameters;
    const offsets = new Map<Tensor, number>();
    let off = 0;
    for (const p of parameters) {
      offsets.set(p, off);
      off += p.size;
    }
    const offsetOf = (tensor: Tensor, name: string): number => {
      const o = offsets.get(tensor);
      if (o === undefined) {
        throw new SensitivityError('invalidFunction', name, 'is not one of the parameters of the dynamics');
      }
      return o;
    };
    const storage = (tensor: Tensor, name: string): Float64Array => {
      if (!tensor.isContiguous || !(tensor.data instanceof Float64Array)) {
        throw new SensitivityError('invalidFunction', name, 'must be a contiguous float64 tensor');
      }
      return tensor.data;
    };
    this.widths = new Int32Array(layers.length + 1);
    this.widths[0] = inputs;
    this.weights = [];
    this.biases = [];
    this.activations = new Int32Array(layers.length);
    this.weightOffsets = new Int32Array(layers.length);
    this.biasOffsets = new Int32Array(layers.length);
    for (let l = 0; l < layers.length; l++) {
      const { weight, bias, activation } = layers[l];
      const name = `layers[${l}]`;
      if (weight.ndim !== 2 || weight.shape[1] !== this.widths[l]) {
        throw new SensitivityError(
          'wrongOutputShape',
          `${name}.weight`,
          `has shape ${formatShape(weight.shape)}, expected [out, ${this.widths[l]}] for a state of shape ${formatShape(shape)}`,
        );
      }
      const out = weight.shape[0];
      if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== out)) {
        throw new SensitivityError(
          'wrongOutputShape',
          `${name}.bias`,
          `has shape ${formatShape(bias.shape)}, expected [${out}]`,
        );
      }
      const code = ACTIVATION_CODES[activation];
      if (code === undefined) {
        throw new SensitivityError(
          'invalidFunction',
          `${name}.activation`,
          `unknown activation '${String(activation)}'; use one of ${Object.keys(ACTIVATION_CODES).join(', ')}`,
        );
      }
      this.widths[l + 1] = out;
      this.weights.push(storage(weight, `${name}.weight`));
      this.biases.push(bias === null ? null : storage(bias, `${name}.bias`));
      this.activations[l] = code;
      this.weightOffsets[l] = offsetOf(weight, `${name}.weight`);
      this.biasOffsets[l] = bias === null ? -1 : offsetOf(bias, `${name}.bias`);
    }
    if (this.widths[layers.length] !== inputs) {
      throw new SensitivityError(
        'wrongOutputShape',
        'func',
        `the last layer has ${this.widths[layers.length]} outputs for a state of shape ${formatShape(shape)}; dy/dt must have the state's shape`,
      );
    }
    this.acts = [];
    let widest = 0;
    for (let l = 0; l <= layers.length; l++) {
      this.acts.push(new Float64Array(this.rows * this.widths[l]));
      widest = Math.max(widest, this.widths[l]);
    }
    let saved = 0;
    for (let l = 1; l <= layers.length; l++) saved += this.rows * this.widths[l];
    this.savedSize = saved;
    this.planar =
      layers.length === 2 && inputs === 2 && this.widths[2] === 2 && this.activations[1] === IDENTITY;
    this.gradA = new Float64Array(this.rows * widest);
    this.gradB = new Float64Array(this.rows * widest);
  }

  /** Fills acts[0..L] from y. */
  private forward(y: Float64Array): void {
    const { rows, widths, weights, biases, activations, acts, power } = this;
    const x0 = acts[0];
    const n0 = rows * widths[0];
    if (power === 1) for (let i = 0; i < n0; i++) x0[i] = y[i];
    else if (power === 3) for (let i = 0; i < n0; i++) x0[i] = y[i] * y[i] * y[i];
    else for (let i = 0; i < n0; i++) x0[i] = y[i] ** power;
    for (let l = 0; l < this.depth; l++) {
      const din = widths[l];
      const dout = widths[l + 1];
      const x = acts[l];
      const z = acts[l + 1];
      const w = weights[l];
      const b = biases[l];
      // Two-wide sides (a planar state in or out) get one fused pass; otherwise the innermost loop runs over
      // the wider of the two dimensions.
      if (din === 2) {
        for (let r = 0; r < rows; r++) {
          const x0 = x[2 * r];
          const x1 = x[2 * r + 1];
          const zr = r * dout;
          for (let o = 0; o < dout; o++)
            z[zr + o] = (b === null ? 0 : b[o]) + x0 * w[2 * o] + x1 * w[2 * o + 1];
        }
      } else if (dout === 2) {
        const b0 = b === null ? 0 : b[0];
        const b1 = b === null ? 0 : b[1];
        for (let r = 0; r < rows; r++) {
          const xr = r * din;
          let s0 = b0;
          let s1 = b1;
          for (let i = 0; i < din; i++) {
            const xi = x[xr + i];
            s0 += xi * w[i];
            s1 += xi * w[din + i];
          }
          z[2 * r] = s0;
          z[2 * r + 1] = s1;
        }
      } else if (din >= dout) {
        for (let r = 0; r < rows; r++) {
          const xr = r * din;
          const zr = r * dout;
          for (let o = 0; o < dout; o++) {
            const wo = o * din;
            let s = b === null ? 0 : b[o];
            for (let i = 0; i < din; i++) s += x[xr + i] * w[wo + i];
            z[zr + o] = s;
          }
        }
      } else {
        for (let r = 0; r < rows; r++) {
          const xr = r * din;
          const zr = r * dout;
          if (b === null) z.fill(0, zr, zr + dout);
          else z.set(b, zr);
          for (let i = 0; i < din; i++) {
            const xi = x[xr + i];
            for (let o = 0; o < dout; o++) z[zr + o] += xi * w[o * din + i];
          }
        }
      }
      const count = rows * dout;
      const act = activations[l];
      if (act === TANH) tanhInPlace(z, count);
      else if (act === SIGMOID) for (let i = 0; i < count; i++) z[i] = 1 / (1 + Math.exp(-z[i]));
    }
  }

  evaluate(_t: number, y: Float64Array, dydt: Float64Array): void {
    this.forward(y);
    dydt.set(this.acts[this.depth]);
  }

  saveLast(dest: Float64Array, at: number): void {
    let o = at;
    for (let l = 1; l <= this.depth; l++) {
      const a = this.acts[l];
      dest.set(a, o);
      o += a.length;
    }
  }

  vjpSaved(
    _t: number,
    y: Float64Array,
    v: Float64Array,
    yBar: Float64Array,
    thetaBar: Float64Array | null,
    saved: Float64Array,
    at: number,
  ): number {
    const { acts, depth, power, rows, widths } = this;
    const x0 = acts[0];
    const n0 = rows * widths[0];
    if (power === 1) for (let i = 0; i < n0; i++) x0[i] = y[i];
    else if (power === 3) for (let i = 0; i < n0; i++) x0[i] = y[i] * y[i] * y[i];
    else for (let i = 0; i < n0; i++) x0[i] = y[i] ** power;
    if (this.planar) {
      // The hidden activations are read where they were saved (acts[1] comes first).
      this.backwardPlanar(v, thetaBar, saved, at);
      this.addInputCotangent(y, yBar, this.gradA);
      return 0;
    }
    let o = at;
    for (let l = 1; l <= depth; l++) {
      const a = acts[l];
      const len = a.length;
      for (let i = 0; i < len; i++) a[i] = saved[o + i];
      o += len;
    }
    this.backward(y, v, yBar, thetaBar);
    return 0;
  }

  vjp(
    _t: number,
    y: Float64Array,
    v: Float64Array,
    yBar: Float64Array,
    thetaBar: Float64Array | null,
    value: Float64Array | null,
  ): number {
    this.forward(y);
    if (value !== null) value.set(this.acts[this.depth]);
    this.backward(y, v, yBar, thetaBar);
    return 0;
  }

  /**
   * One layer's backward pass in a single sweep when one side is two wide: from the pre-activation cotangent
   * g, adds the weight and bias cotangents to thetaBar and writes the input cotangent to `next`.
   */
  private backwardNarrow(
    l: number,
    g: Float64Array,
    next: Float64Array,
    thetaBar: Float64Array | null,
  ): void {
    const { rows } = this;
    const din = this.widths[l];
    const dout = this.widths[l + 1];
    const x = this.acts[l];
    const w = this.weights[l];
    const wOff = this.weightOffsets[l];
    const bOff = this.biasOffsets[l];
    if (dout === 2) {
      // Input cotangent first (write-only), then the weight cotangents as reductions over the rows.
      let gb0 = 0;
      let gb1 = 0;
      for (let r = 0; r < rows; r++) {
        const g0 = g[2 * r];
        const g1 = g[2 * r + 1];
        gb0 += g0;
        gb1 += g1;
        const xr = r * din;
        for (let i = 0; i < din; i++) next[xr + i] = g0 * w[i] + g1 * w[din + i];
      }
      if (thetaBar !== null) {
        for (let i = 0; i < din; i++) {
          let s0 = 0;
          let s1 = 0;
          for (let r = 0; r < rows; r++) {
            const xi = x[r * din + i];
            s0 += g[2 * r] * xi;
            s1 += g[2 * r + 1] * xi;
          }
          thetaBar[wOff + i] += s0;
          thetaBar[wOff + din + i] += s1;
        }
        if (bOff >= 0) {
          thetaBar[bOff] += gb0;
          thetaBar[bOff + 1] += gb1;
        }
      }
      return;
    }
    // din === 2: input cotangent as reductions over the outputs, then the weight and bias cotangents as
    // reductions over the rows.
    for (let r = 0; r < rows; r++) {
      const gr = r * dout;
      let n0 = 0;
      let n1 = 0;
      for (let o = 0; o < dout; o++) {
        const go = g[gr + o];
        n0 += go * w[2 * o];
        n1 += go * w[2 * o + 1];
      }
      next[2 * r] = n0;
      next[2 * r + 1] = n1;
    }
    if (thetaBar !== null) {
      for (let o = 0; o < dout; o++) {
        let sb = 0;
        let s0 = 0;
        let s1 = 0;
        for (let r = 0; r < rows; r++) {
          const go = g[r * dout + o];
          sb += go;
          s0 += go * x[2 * r];
          s1 += go * x[2 * r + 1];
        }
        if (bOff >= 0) thetaBar[bOff + o] += sb;
        thetaBar[wOff + 2 * o] += s0;
        thetaBar[wOff + 2 * o + 1] += s1;
      }
    }
  }

  /**
   * The backward pass of a planar two-layer field (2 → H → 2, linear output) in one sweep over the hidden
   * units of each row: output-layer cotangents, the hidden pre-activation cotangent, first-layer cotangents
   * and the input cotangent (written to gradA, rows × 2). The hidden activations are read from `a` at
   * offset `aOff`.
   */
  private backwardPlanar(
    v: Float64Array,
    thetaBar: Float64Array | null,
    a: Float64Array,
    aOff: number,
  ): void {
    const { rows } = this;
    const hidden = this.widths[1];
    const x = this.acts[0];
    const w1 = this.weights[0];
    const w2 = this.weights[1];
    const out = this.gradA;
    const tanhAct = this.activations[0] === TANH;
    const sigmoidAct = this.activations[0] === SIGMOID;
    const w1Off = this.weightOffsets[0];
    const b1Off = this.biasOffsets[0];
    const w2Off = this.weightOffsets[1];
    const b2Off = this.biasOffsets[1];
    let gb0 = 0;
    let gb1 = 0;
    for (let r = 0; r < rows; r++) {
      const v0 = v[2 * r];
      const v1 = v[2 * r + 1];
      gb0 += v0;
      gb1 += v1;
      const x0 = x[2 * r];
      const x1 = x[2 * r + 1];
      const ar = aOff + r * hidden;
      let n0 = 0;
      let n1 = 0;
      if (thetaBar !== null) {
        for (let o = 0; o < hidden; o++) {
          const ao = a[ar + o];
          const d = tanhAct ? 1 - ao * ao : sigmoidAct ? ao * (1 - ao) : 1;
          const gz = (v0 * w2[o] + v1 * w2[hidden + o]) * d;
          thetaBar[w2Off + o] += v0 * ao;
          thetaBar[w2Off + hidden + o] += v1 * ao;
          if (b1Off >= 0) thetaBar[b1Off + o] += gz;
          thetaBar[w1Off + 2 * o] += gz * x0;
          thetaBar[w1Off + 2 * o + 1] += gz * x1;
          n0 += gz * w1[2 * o];
          n1 += gz * w1[2 * o + 1];
        }
      } else {
        for (let o = 0; o < hidden; o++) {
          const ao = a[ar + o];
          const d = tanhAct ? 1 - ao * ao : sigmoidAct ? ao * (1 - ao) : 1;
          const gz = (v0 * w2[o] + v1 * w2[hidden + o]) * d;
          n0 += gz * w1[2 * o];
          n1 += gz * w1[2 * o + 1];
        }
      }
      out[2 * r] = n0;
      out[2 * r + 1] = n1;
    }
    if (thetaBar !== null && b2Off >= 0) {
      thetaBar[b2Off] += gb0;
      thetaBar[b2Off + 1] += gb1;
    }
  }

  /** The backward pass from the activations in acts (of the forward pass at y). */
  private backward(
    y: Float64Array,
    v: Float64Array,
    yBar: Float64Array,
    thetaBar: Float64Array | null,
  ): void {
    const { rows, widths, weights, activations, acts, depth } = this;
    // g: cotangent of layer l's output, overwritten by the cotangent of its pre-activation.
    let g = this.gradA;
    let next = this.gradB;
    const nOut = rows * widths[depth];
    if (this.planar) {
      this.backwardPlanar(v, thetaBar, acts[1], 0);
    } else {
      for (let i = 0; i < nOut; i++) g[i] = v[i];
    }
    for (let l = this.planar ? -1 : depth - 1; l >= 0; l--) {
      const din = widths[l];
      const dout = widths[l + 1];
      const x = acts[l];
      const a = acts[l + 1];
      const w = weights[l];
      const count = rows * dout;
      const act = activations[l];
      if (act === TANH) {
        for (let i = 0; i < count; i++) g[i] *= 1 - a[i] * a[i];
      } else if (act === SIGMOID) {
        for (let i = 0; i < count; i++) g[i] *= a[i] * (1 - a[i]);
      }
      if (din === 2 || dout === 2) {
        this.backwardNarrow(l, g, next, thetaBar);
        const tmp = g;
        g = next;
        next = tmp;
        continue;
      }
      // Cotangents of the weights and bias: gW[o, i] += Σ_r g[r, o]·x[r, i], gb[o] += Σ_r g[r, o].
      if (thetaBar !== null) {
        const wOff = this.weightOffsets[l];
        const bOff = this.biasOffsets[l];
        for (let o = 0; o < dout; o++) {
          for (let i = 0; i < din; i++) {
            let acc = 0;
            for (let r = 0; r < rows; r++) acc += g[r * dout + o] * x[r * din + i];
            thetaBar[wOff + o * din + i] += acc;
          }
          if (bOff >= 0) {
            let acc = 0;
            for (let r = 0; r < rows; r++) acc += g[r * dout + o];
            thetaBar[bOff + o] += acc;
          }
        }
      }
      // Cotangent of the layer's input: next[r, i] = Σ_o g[r, o]·W[o, i], the innermost loop over the wider
      // dimension.
      if (dout >= din) {
        for (let r = 0; r < rows; r++) {
          const gr = r * dout;
          for (let i = 0; i < din; i++) {
            let acc = 0;
            for (let o = 0; o < dout; o++) acc += g[gr + o] * w[o * din + i];
            next[r * din + i] = acc;
          }
        }
      } else {
        for (let r = 0; r < rows; r++) {
          const gr = r * dout;
          const nr = r * din;
          const g0 = g[gr];
          for (let i = 0; i < din; i++) next[nr + i] = g0 * w[i];
          for (let o = 1; o < dout; o++) {
            const go = g[gr + o];
            const wo = o * din;
            for (let i = 0; i < din; i++) next[nr + i] += go * w[wo + i];
          }
        }
      }
      const tmp = g;
      g = next;
      next = tmp;
    }
    this.addInputCotangent(y, yBar, g);
  }

  /** yBar += g·d(y^p)/dy, g the cotangent of the first layer's input. */
  private addInputCotangent(y: Float64Array, yBar: Float64Array, g: Float64Array): void {
    const { power } = this;
    const n0 = this.rows * this.widths[0];
    if (power === 1) for (let i = 0; i < n0; i++) yBar[i] += g[i];
    else if (power === 3) for (let i = 0; i < n0; i++) yBar[i] += g[i] * 3 * y[i] * y[i];
    else for (let i = 0; i < n0; i++) yBar[i] += g[i] * power * y[i] ** (power - 1);
  }
}
