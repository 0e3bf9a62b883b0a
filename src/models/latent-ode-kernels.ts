/**
 * Fused batch kernels shared by the latent ODE and the RNN baseline: affine maps, MLPs with one or more hidden
 * layers (tanh or ELU) and an Elman RNN over a [steps, rows] schedule, each with a hand-written backward pass
 * (the RNN's input projections and weight gradients each cover all steps at once). Parameters live in
 * one flat Float64Array (offsets from {@link ParameterLayout}) and gradients accumulate into a matching
 * vector, so the optimizer and checkpoints see θ as one vector. Working on raw typed arrays instead of the
 * recorded tensor graph avoids one graph node and one allocation per operation and per solver stage; the
 * matrix products go through the tensor core's GEMM (WASM SIMD where available), over many rows in blocks of
 * {@link ROW_BLOCK} so that the kernels' copies of their operands stay in cache, and with even dimensions
 * where the WASM row kernels need them (the RNN state is padded to an even width). Inputs of at most four
 * values are projected by direct loops instead. The finite-difference tests in test/latent-ode.test.ts and
 * test/latent-ode-kernels.test.ts check every backward pass.
 */
import type { Rng } from '../random/index.js';
import { gemmKernel } from '../tensor/kernels-matmul.js';
import { wasmRowsGemm, wasmState, wasmTanh } from '../tensor/kernels-wasm.js';

/** Scratch buffers sized on demand, reused across calls so hot loops do not allocate. */
export class Scratch {
  private readonly buffers = new Map<string, Float64Array>();

  get(name: string, length: number): Float64Array {
    let b = this.buffers.get(name);
    if (b === undefined || b.length < length) {
      b = new Float64Array(length);
      this.buffers.set(name, b);
    }
    return b;
  }

  /** Like {@link get} but zero-filled over the first `length` entries. */
  zeros(name: string, length: number): Float64Array {
    const b = this.get(name, length);
    b.fill(0, 0, length);
    return b;
  }
}

/** Hands out consecutive slices of one flat parameter vector and remembers how to initialise them. */
export class ParameterLayout {
  size = 0;
  private readonly inits: { offset: number; length: number; bound: number }[] = [];

  /** Reserves `length` values initialised U(−bound, bound) (bound 0: zeros). Returns the offset. */
  add(length: number, bound: number): number {
    const offset = this.size;
    this.inits.push({ offset, length, bound });
    this.size += length;
    return offset;
  }

  /** Allocates and initialises θ. */
  initialise(rng: Rng): Float64Array {
    const theta = new Float64Array(this.size);
    for (const { offset, length, bound } of this.inits) {
      for (let i = 0; i < length; i++) theta[offset + i] = bound === 0 ? 0 : rng.uniformIn(-bound, bound);
    }
    return theta;
  }
}

/** Offsets of an affine layer W [out, in], b [out]. */
export interface AffineLayer {
  readonly inDim: number;
  readonly outDim: number;
  readonly weight: number;
  readonly bias: number;
}

/** PyTorch's default initialisation bound 1/√fan_in for both weight and bias. */
export function addAffine(layout: ParameterLayout, inDim: number, outDim: number): AffineLayer {
  const bound = 1 / Math.sqrt(inDim);
  return { inDim, outDim, weight: layout.add(inDim * outDim, bound), bias: layout.add(outDim, bound) };
}

/** Copies rows of a strided buffer into a contiguous [rows, width] buffer. */
function packRows(
  x: Float64Array,
  xOffset: number,
  xStride: number,
  rows: number,
  width: number,
  out: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const xo = xOffset + r * xStride;
    for (let i = 0; i < width; i++) out[r * width + i] = x[xo + i];
  }
}

const packScratch = new Scratch();

/** out[r, :] = W x[r, :] + b for `rows` rows (x row stride `xStride`, starting at `xOffset`). */
export function affineForward(
  theta: Float64Array,
  layer: AffineLayer,
  x: Float64Array,
  xOffset: number,
  xStride: number,
  rows: number,
  out: Float64Array,
): void {
  const { inDim, outDim, weight, bias } = layer;
  if (inDim <= NARROW_IN) {
    narrowAffine(theta, layer, x, xOffset, xStride, rows, out);
    return;
  }
  let a = x;
  let aOff = xOffset;
  if (xStride !== inDim) {
    a = packScratch.get('affine.x', rows * inDim);
    packRows(x, xOffset, xStride, rows, inDim, a);
    aOff = 0;
  }
  for (let r = 0; r < rows; r++) for (let o = 0; o < outDim; o++) out[r * outDim + o] = theta[bias + o];
  // Blocks of rows keep the kernel's copies of the operands in cache when there are many rows.
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const n = Math.min(ROW_BLOCK, rows - r0);
    gemmKernel(false, true, n, outDim, inDim, a, aOff + r0 * inDim, theta, weight, out, r0 * outDim, true);
  }
}

/** Inputs up to this width are projected by {@link narrowAffine} rather than a matrix product. */
const NARROW_IN = 4;

/**
 * out = x Wᵀ + b for inputs of at most {@link NARROW_IN} values (the RNN's [x, y, Δt] inputs, a 4-dimensional
 * latent state): each output is a short dot product, read straight from the strided rows, which costs less than
 * packing the operands for a product whose inner dimension is this short.
 */
function narrowAffine(
  theta: Float64Array,
  layer: AffineLayer,
  x: Float64Array,
  xOffset: number,
  xStride: number,
  rows: number,
  out: Float64Array,
  outStride = layer.outDim,
): void {
  const { inDim, outDim, weight, bias } = layer;
  // [outDim, 5]: the bias, then the weights zero-padded to four inputs, so the row loop has no branches.
  const w = packScratch.zeros('narrow.w', outDim * 5);
  for (let o = 0; o < outDim; o++) {
    w[o * 5] = theta[bias + o];
    for (let i = 0; i < inDim; i++) w[o * 5 + 1 + i] = theta[weight + o * inDim + i];
  }
  for (let r = 0; r < rows; r++) {
    const xo = xOffset + r * xStride;
    const oo = r * outStride;
    const x0 = x[xo];
    const x1 = inDim > 1 ? x[xo + 1] : 0;
    const x2 = inDim > 2 ? x[xo + 2] : 0;
    const x3 = inDim > 3 ? x[xo + 3] : 0;
    for (let o = 0, wo = 0; o < outDim; o++, wo += 5) {
      out[oo + o] = w[wo] + w[wo + 1] * x0 + w[wo + 2] * x1 + w[wo + 3] * x2 + w[wo + 4] * x3;
    }
    for (let o = outDim; o < outStride; o++) out[oo + o] = 0;
  }
}

/** Rows per block of a product over many rows, so that the kernels' copies of the operands stay small. */
const ROW_BLOCK = 1024;

/**
 * grad[offset …] (outDim × inDim) += gOutᵀ x over `rows` rows (gOut contiguous [rows, outDim], x contiguous
 * [rows, inDim] from `xOffset`), in blocks of {@link ROW_BLOCK} rows.
 */
export function addWeightGradient(
  grad: Float64Array,
  offset: number,
  outDim: number,
  inDim: number,
  rows: number,
  gOut: Float64Array,
  gOffset: number,
  x: Float64Array,
  xOffset: number,
): void {
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const n = Math.min(ROW_BLOCK, rows - r0);
    gemmKernel(
      true,
      false,
      outDim,
      inDim,
      n,
      gOut,
      gOffset + r0 * outDim,
      x,
      xOffset + r0 * inDim,
      grad,
      offset,
      true,
    );
  }
}

/**
 * Backward of {@link affineForward}: adds gOutᵀ x into the weight gradient, the column sums of gOut into the
 * bias gradient and, when `gx` is given, gOut W into gx (same layout as x).
 */
export function affineBackward(
  theta: Float64Array,
  grad: Float64Array,
  layer: AffineLayer,
  x: Float64Array,
  xOffset: number,
  xStride: number,
  rows: number,
  gOut: Float64Array,
  gx: Float64Array | null,
): void {
  const { inDim, outDim, weight, bias } = layer;
  let a = x;
  let aOff = xOffset;
  if (xStride !== inDim) {
    a = packScratch.get('affine.x', rows * inDim);
    packRows(x, xOffset, xStride, rows, inDim, a);
    aOff = 0;
  }
  addWeightGradient(grad, weight, outDim, inDim, rows, gOut, 0, a, aOff);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outDim; o++) grad[bias + o] += gOut[r * outDim + o];
  if (gx === null) return;
  if (xStride === inDim) {
    for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
      const n = Math.min(ROW_BLOCK, rows - r0);
      gemmKernel(
        false,
        false,
        n,
        inDim,
        outDim,
        gOut,
        r0 * outDim,
        theta,
        weight,
        gx,
        xOffset + r0 * inDim,
        true,
      );
    }
    return;
  }
  const tmp = packScratch.get('affine.gx', rows * inDim);
  gemmKernel(false, false, rows, inDim, outDim, gOut, 0, theta, weight, tmp, 0, false);
  for (let r = 0; r < rows; r++) {
    const xo = xOffset + r * xStride;
    for (let i = 0; i < inDim; i++) gx[xo + i] += tmp[r * inDim + i];
  }
}

/** In-place tanh over the first n entries (SIMD kernel when available). */
export function tanhInPlace(x: Float64Array, n: number): void {
  if (wasmState.enabled && n >= 64) {
    wasmTanh(x, x, n);
    return;
  }
  for (let i = 0; i < n; i++) x[i] = Math.tanh(x[i]);
}

/**
 * An MLP x → act(W1 x + b1) → … → act(W_d h + b_d) → W_out h + b_out with `depth` hidden layers of equal width
 * and act = tanh or ELU. The hidden activations of all layers live in one buffer of `rows · hiddenWidth`
 * values, layer l in the block starting at `rows · l · width`.
 */
export interface Mlp {
  readonly layers: readonly AffineLayer[];
  readonly width: number;
  /** Total hidden values per row (depth · width): the per-row size of the `hidden` buffer. */
  readonly hiddenWidth: number;
  readonly activation: 'tanh' | 'elu';
}

export function addMlp(
  layout: ParameterLayout,
  inDim: number,
  hidden: number,
  outDim: number,
  activation: 'tanh' | 'elu' = 'tanh',
  depth = 1,
): Mlp {
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`addMlp: depth must be >= 1, got ${depth}`);
  const layers: AffineLayer[] = [addAffine(layout, inDim, hidden)];
  for (let l = 1; l < depth; l++) layers.push(addAffine(layout, hidden, hidden));
  layers.push(addAffine(layout, hidden, outDim));
  return { layers, width: hidden, hiddenWidth: depth * hidden, activation };
}

function activate(mlp: Mlp, h: Float64Array, n: number): void {
  if (mlp.activation === 'tanh') tanhInPlace(h, n);
  else for (let i = 0; i < n; i++) if (h[i] < 0) h[i] = Math.expm1(h[i]);
}

/** MLP forward; the hidden activations go to `hidden` [depth, rows, width] for the backward pass. */
export function mlpForward(
  theta: Float64Array,
  mlp: Mlp,
  x: Float64Array,
  xOffset: number,
  xStride: number,
  rows: number,
  hidden: Float64Array,
  out: Float64Array,
): void {
  const { layers, width } = mlp;
  const block = rows * width;
  const depth = layers.length - 1;
  let h = hidden.subarray(0, block);
  affineForward(theta, layers[0], x, xOffset, xStride, rows, h);
  activate(mlp, h, block);
  for (let l = 1; l < depth; l++) {
    const next = hidden.subarray(l * block, (l + 1) * block);
    affineForward(theta, layers[l], h, 0, width, rows, next);
    activate(mlp, next, block);
    h = next;
  }
  affineForward(theta, layers[depth], h, 0, width, rows, out);
}

/** MLP backward given the hidden activations of the forward pass; `gx` (if given) accumulates. */
export function mlpBackward(
  theta: Float64Array,
  grad: Float64Array,
  mlp: Mlp,
  x: Float64Array,
  xOffset: number,
  xStride: number,
  rows: number,
  hidden: Float64Array,
  gOut: Float64Array,
  gx: Float64Array | null,
  scratch: Scratch,
): void {
  const { layers, width } = mlp;
  const block = rows * width;
  const depth = layers.length - 1;
  let g = gOut;
  for (let l = depth; l >= 1; l--) {
    const h = hidden.subarray((l - 1) * block, l * block);
    const gh = scratch.zeros(`mlp.gh${l % 2}`, block);
    affineBackward(theta, grad, layers[l], h, 0, width, rows, g, gh);
    // Both derivatives follow from the activation a: tanh' = 1 − a², ELU' = 1 for a > 0 and a + 1 = eˣ else.
    if (mlp.activation === 'tanh') for (let i = 0; i < block; i++) gh[i] *= 1 - h[i] * h[i];
    else for (let i = 0; i < block; i++) if (h[i] <= 0) gh[i] *= h[i] + 1;
    g = gh;
  }
  affineBackward(theta, grad, layers[0], x, xOffset, xStride, rows, g, gx);
}

/**
 * Offsets of an Elman cell h' = tanh(Wx x + Wh h + b). States are stored with `stride` values per row: the
 * hidden size rounded up to an even number, the extra entry held at 0, so that every product of the
 * recurrence has even dimensions and runs on the WASM row kernels without repacking.
 */
export interface RnnLayer {
  readonly inDim: number;
  readonly hidden: number;
  readonly stride: number;
  readonly input: AffineLayer;
  readonly recurrent: number;
}

export function addRnn(layout: ParameterLayout, inDim: number, hidden: number): RnnLayer {
  const input = addAffine(layout, inDim, hidden);
  const stride = hidden + (hidden & 1);
  return { inDim, hidden, stride, input, recurrent: layout.add(hidden * hidden, 1 / Math.sqrt(hidden)) };
}

/** Wh zero-padded to [stride, stride] in scratch. */
function paddedRecurrent(theta: Float64Array, cell: RnnLayer): Float64Array {
  const { hidden: hd, stride, recurrent } = cell;
  const w = packScratch.zeros('rnn.w', stride * stride);
  for (let o = 0; o < hd; o++) for (let i = 0; i < hd; i++) w[o * stride + i] = theta[recurrent + o * hd + i];
  return w;
}

/** c[cOff …] (m×n) += a[aOff …] (m×k) · bᵀ (b n×k), on the row kernel when it applies. */
function productNt(
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  aOff: number,
  b: Float64Array,
  c: Float64Array,
  cOff: number,
): void {
  if (
    wasmState.enabled &&
    m * n * k >= 64 &&
    wasmRowsGemm(false, true, m, n, k, a, aOff, b, 0, c, cOff, true)
  ) {
    return;
  }
  gemmKernel(false, true, m, n, k, a, aOff, b, 0, c, cOff, true);
}

/**
 * Runs the cell over `steps` steps for `rows` rows. `inputs` is [steps, rows, inDim]; `active` [steps, rows]
 * (null: all active) leaves a row's state unchanged on inactive steps, which is how sequences of different
 * lengths share one schedule. `states` receives [steps + 1, rows, stride] (padding entries 0); states[0] is
 * set to 0 unless `givenInitial` is true, in which case the caller's first block (padding 0) is the initial
 * state.
 */
export function rnnForward(
  theta: Float64Array,
  cell: RnnLayer,
  inputs: Float64Array,
  active: Uint8Array | null,
  steps: number,
  rows: number,
  states: Float64Array,
  givenInitial = false,
): void {
  const { inDim, hidden: hd, stride } = cell;
  const block = rows * stride;
  if (!givenInitial) states.fill(0, 0, block);
  // The input projections of all steps at once, straight into the state blocks 1 … steps.
  const n = steps * rows;
  if (inDim <= NARROW_IN) {
    narrowAffine(theta, cell.input, inputs, 0, inDim, n, states.subarray(block, block + n * stride), stride);
  } else {
    const proj = packScratch.get('rnn.proj', n * hd);
    affineForward(theta, cell.input, inputs, 0, inDim, n, proj);
    for (let r = 0; r < n; r++) {
      const so = block + r * stride;
      for (let j = 0; j < hd; j++) states[so + j] = proj[r * hd + j];
      for (let j = hd; j < stride; j++) states[so + j] = 0;
    }
  }
  const w = paddedRecurrent(theta, cell);
  for (let s = 0; s < steps; s++) {
    const prev = s * block;
    const next = prev + block;
    productNt(rows, stride, stride, states, prev, w, states, next);
    tanhInPlace(states.subarray(next, next + block), block);
    if (active === null) continue;
    for (let r = 0; r < rows; r++) {
      if (active[s * rows + r] !== 0) continue;
      for (let j = 0; j < stride; j++) states[next + r * stride + j] = states[prev + r * stride + j];
    }
  }
}

/**
 * Backpropagation through time for {@link rnnForward}. `gStates` [steps + 1, rows, stride] holds the
 * gradient of the loss with respect to every state on entry (zeros where a state is unused) and is consumed.
 */
export function rnnBackward(
  theta: Float64Array,
  grad: Float64Array,
  cell: RnnLayer,
  inputs: Float64Array,
  active: Uint8Array | null,
  steps: number,
  rows: number,
  states: Float64Array,
  gStates: Float64Array,
  scratch: Scratch,
): void {
  const { inDim, hidden: hd, stride, recurrent, input } = cell;
  const block = rows * stride;
  const w = paddedRecurrent(theta, cell);
  // Pre-activation gradients of every step, kept so the weight gradients are products over all steps.
  const gPreAll = scratch.get('rnn.gpre', steps * block);
  // Bias gradient: the column sums of the pre-activation gradients, taken while each block is in cache.
  const gb = scratch.zeros('rnn.gb', stride);
  for (let s = steps - 1; s >= 0; s--) {
    const prev = s * block;
    const next = prev + block;
    const gp = s * block;
    for (let i = 0; i < block; i++) {
      const h = states[next + i];
      gPreAll[gp + i] = gStates[next + i] * (1 - h * h);
    }
    if (stride !== hd) for (let r = 0; r < rows; r++) gPreAll[gp + r * stride + hd] = 0;
    if (active !== null) {
      // An inactive row copied its state: its gradient passes straight through.
      for (let r = 0; r < rows; r++) {
        if (active[s * rows + r] !== 0) continue;
        for (let j = 0; j < hd; j++) {
          gPreAll[gp + r * stride + j] = 0;
          gStates[prev + r * stride + j] += gStates[next + r * stride + j];
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      const o = gp + r * stride;
      for (let j = 0; j < stride; j++) gb[j] += gPreAll[o + j];
    }
    gemmKernel(false, false, rows, stride, stride, gPreAll, gp, w, 0, gStates, prev, true);
  }
  const n = steps * rows;
  const gw = scratch.zeros('rnn.gw', stride * stride);
  addWeightGradient(gw, 0, stride, stride, n, gPreAll, 0, states, 0);
  for (let o = 0; o < hd; o++)
    for (let i = 0; i < hd; i++) grad[recurrent + o * hd + i] += gw[o * stride + i];
  // The input weight gradient as inputsᵀ · gPre ([inDim, stride], an even number of columns).
  const gin = scratch.zeros('rnn.gin', inDim * stride);
  addWeightGradient(gin, 0, inDim, stride, n, inputs, 0, gPreAll, 0);
  for (let o = 0; o < hd; o++) {
    for (let i = 0; i < inDim; i++) grad[input.weight + o * inDim + i] += gin[i * stride + o];
  }
  for (let j = 0; j < hd; j++) grad[input.bias + j] += gb[j];
}
