/**
 * Typed-array kernels for the tensor core: elementwise maps, broadcasting, reductions, strided copies,
 * gather/scatter, slicing and im2col. Matrix products live in kernels-matmul.ts.
 *
 * Every kernel is a plain loop over `Float64Array | Float32Array` storage with explicit offsets and lengths:
 * no closures per element, no allocation inside loops (a few rank-sized scratch arrays per call at most), no
 * knowledge of tensors or autodiff. That keeps this file replaceable by a WASM SIMD backend with the same
 * signatures. Operation selection uses small integer codes switched on *outside* the inner loops.
 */

import { wasmState, wasmTanh } from './kernels-wasm.js';

/** Storage of a tensor. */
export type TensorData = Float64Array | Float32Array;

// Unary operation codes (frozen module data).
export const UNARY_NEG = 0;
export const UNARY_EXP = 1;
export const UNARY_LOG = 2;
export const UNARY_SQRT = 3;
export const UNARY_ABS = 4;
export const UNARY_SQUARE = 5;
export const UNARY_SIN = 6;
export const UNARY_COS = 7;
export const UNARY_TANH = 8;
export const UNARY_SIGMOID = 9;
export const UNARY_SOFTPLUS = 10;
export const UNARY_RELU = 11;
export const UNARY_ELU = 12;
export const UNARY_SIGN = 13;
export const UNARY_STEP = 14; // 1 where x > 0, else 0
export const UNARY_POW_SCALAR = 15;
export const UNARY_MUL_SCALAR = 16;
export const UNARY_ADD_SCALAR = 17;
export const UNARY_RSUB_SCALAR = 18; // alpha - x
export const UNARY_RDIV_SCALAR = 19; // alpha / x

/** Below this many elements the copy into WASM memory costs more than it saves. */
const WASM_MIN_ELEMENTS = 32;

/** out[i] = f(x[i]) for i < n; `alpha` parameterises ELU, pow and the scalar ops. */
export function unaryKernel(kind: number, x: TensorData, out: TensorData, n: number, alpha: number): void {
  switch (kind) {
    case UNARY_NEG:
      for (let i = 0; i < n; i++) out[i] = -x[i];
      return;
    case UNARY_EXP:
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
      return;
    case UNARY_LOG:
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      return;
    case UNARY_SQRT:
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
      return;
    case UNARY_ABS:
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
      return;
    case UNARY_SQUARE:
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v * v;
      }
      return;
    case UNARY_SIN:
      for (let i = 0; i < n; i++) out[i] = Math.sin(x[i]);
      return;
    case UNARY_COS:
      for (let i = 0; i < n; i++) out[i] = Math.cos(x[i]);
      return;
    case UNARY_TANH:
      if (wasmState.enabled && n >= WASM_MIN_ELEMENTS && n <= 2 ** 26) {
        wasmTanh(x, out, n);
        return;
      }
      // tanh|x| = −expm1(−2|x|) / (2 + expm1(−2|x|)): within 1 ulp-ish of Math.tanh (max relative difference
      // ~3e-16 measured) and about 1.5x faster in V8, where Math.tanh is the costliest part of an MLP layer.
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const e = Math.expm1(-2 * Math.abs(v));
        const r = -e / (2 + e);
        out[i] = v < 0 ? -r : r;
      }
      return;
    case UNARY_SIGMOID:
      // Split on the sign so that exp never overflows.
      for (let i = 0; i < n; i++) {
        const v = x[i];
        if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          out[i] = e / (1 + e);
        }
      }
      return;
    case UNARY_SOFTPLUS:
      // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), exact in both tails.
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
      }
      return;
    case UNARY_RELU:
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = Math.max(v, 0);
      }
      return;
    case UNARY_ELU:
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v > 0 ? v : alpha * Math.expm1(v);
      }
      return;
    case UNARY_SIGN:
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v > 0 ? 1 : v < 0 ? -1 : 0;
      }
      return;
    case UNARY_STEP:
      for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? 1 : 0;
      return;
    case UNARY_POW_SCALAR:
      if (alpha === 2) {
        for (let i = 0; i < n; i++) out[i] = x[i] * x[i];
      } else {
        for (let i = 0; i < n; i++) out[i] = x[i] ** alpha;
      }
      return;
    case UNARY_MUL_SCALAR:
      for (let i = 0; i < n; i++) out[i] = x[i] * alpha;
      return;
    case UNARY_ADD_SCALAR:
      for (let i = 0; i < n; i++) out[i] = x[i] + alpha;
      return;
    case UNARY_RSUB_SCALAR:
      for (let i = 0; i < n; i++) out[i] = alpha - x[i];
      return;
    case UNARY_RDIV_SCALAR:
      for (let i = 0; i < n; i++) out[i] = alpha / x[i];
      return;
    default:
      throw new Error(`unaryKernel: unknown operation code ${kind}`);
  }
}

/**
 * Fused first-derivative kernels used by the backward pass when no graph is being recorded:
 * out[i] = g[i] * f'(x[i]) computed from the input `x` and/or the forward output `y`.
 * Only the codes listed here are supported; the differentiable (graph-recording) path composes ops instead.
 */
export function unaryBackwardKernel(
  kind: number,
  g: TensorData,
  x: TensorData,
  y: TensorData,
  out: TensorData,
  n: number,
  alpha: number,
): void {
  switch (kind) {
    case UNARY_TANH:
      for (let i = 0; i < n; i++) {
        const t = y[i];
        out[i] = g[i] * (1 - t * t);
      }
      return;
    case UNARY_SIGMOID:
      for (let i = 0; i < n; i++) {
        const s = y[i];
        out[i] = g[i] * s * (1 - s);
      }
      return;
    case UNARY_RELU:
      for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? g[i] : 0;
      return;
    case UNARY_EXP:
      for (let i = 0; i < n; i++) out[i] = g[i] * y[i];
      return;
    case UNARY_ELU:
      for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? g[i] : g[i] * (y[i] + alpha);
      return;
    case UNARY_SOFTPLUS:
      for (let i = 0; i < n; i++) {
        const v = x[i];
        if (v >= 0) out[i] = g[i] / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          out[i] = (g[i] * e) / (1 + e);
        }
      }
      return;
    case UNARY_SQUARE:
      for (let i = 0; i < n; i++) out[i] = 2 * g[i] * x[i];
      return;
    case UNARY_SIN:
      for (let i = 0; i < n; i++) out[i] = g[i] * Math.cos(x[i]);
      return;
    case UNARY_COS:
      for (let i = 0; i < n; i++) out[i] = -g[i] * Math.sin(x[i]);
      return;
    case UNARY_LOG:
      for (let i = 0; i < n; i++) out[i] = g[i] / x[i];
      return;
    case UNARY_SQRT:
      for (let i = 0; i < n; i++) out[i] = g[i] / (2 * y[i]);
      return;
    case UNARY_ABS:
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v > 0 ? g[i] : v < 0 ? -g[i] : 0;
      }
      return;
    case UNARY_POW_SCALAR:
      for (let i = 0; i < n; i++) out[i] = g[i] * alpha * x[i] ** (alpha - 1);
      return;
    default:
      throw new Error(`unaryBackwardKernel: unknown operation code ${kind}`);
  }
}

// Binary operation codes.
export const BINARY_ADD = 0;
export const BINARY_SUB = 1;
export const BINARY_MUL = 2;
export const BINARY_DIV = 3;
export const BINARY_POW = 4;

/**
 * One strided run of a binary op: out[o + i] = a[ai + i*as] (op) b[bi + i*bs] for i < n.
 * Broadcasting is expressed by stride 0.
 */
export function binaryRun(
  kind: number,
  out: TensorData,
  o: number,
  a: TensorData,
  ai: number,
  as: number,
  b: TensorData,
  bi: number,
  bs: number,
  n: number,
): void {
  const end = o + n;
  switch (kind) {
    case BINARY_ADD:
      if (as === 1 && bs === 1) {
        const d = ai - o;
        const e = bi - o;
        for (let i = o; i < end; i++) out[i] = a[i + d] + b[i + e];
      } else {
        for (let i = o; i < end; i++, ai += as, bi += bs) out[i] = a[ai] + b[bi];
      }
      return;
    case BINARY_SUB:
      for (let i = o; i < end; i++, ai += as, bi += bs) out[i] = a[ai] - b[bi];
      return;
    case BINARY_MUL:
      if (as === 1 && bs === 1) {
        const d = ai - o;
        const e = bi - o;
        for (let i = o; i < end; i++) out[i] = a[i + d] * b[i + e];
      } else {
        for (let i = o; i < end; i++, ai += as, bi += bs) out[i] = a[ai] * b[bi];
      }
      return;
    case BINARY_DIV:
      for (let i = o; i < end; i++, ai += as, bi += bs) out[i] = a[ai] / b[bi];
      return;
    case BINARY_POW:
      for (let i = o; i < end; i++, ai += as, bi += bs) out[i] = a[ai] ** b[bi];
      return;
    default:
      throw new Error(`binaryRun: unknown operation code ${kind}`);
  }
}

/** Row-major contiguous strides of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const r = shape.length;
  const s = new Array<number>(r);
  let acc = 1;
  for (let d = r - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** Strides of an operand of shape `shape` broadcast against `outShape` (0 on broadcast dimensions). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const r = outShape.length;
  const off = r - shape.length;
  const s = new Array<number>(r).fill(0);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d + off] = shape[d] === 1 ? 0 : acc;
    acc *= shape[d];
  }
  return s;
}

/**
 * out = a (op) b with NumPy broadcasting; `outShape` must be the broadcast shape. Dimensions are iterated with
 * an odometer over all but the innermost, which is a single strided run.
 */
export function binaryBroadcast(
  kind: number,
  a: TensorData,
  aShape: readonly number[],
  b: TensorData,
  bShape: readonly number[],
  out: TensorData,
  outShape: readonly number[],
): void {
  const r = outShape.length;
  if (r === 0) {
    binaryRun(kind, out, 0, a, 0, 0, b, 0, 0, 1);
    return;
  }
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  // Merge the innermost dimensions while both operands stay linear in them, so that e.g. [B,N]+[N] runs N-long
  // rows and same-layout operands run once over everything.
  let inner = outShape[r - 1];
  const ias = sa[r - 1];
  const ibs = sb[r - 1];
  let d = r - 2;
  while (d >= 0 && sa[d] === ias * inner && sb[d] === ibs * inner) {
    inner *= outShape[d];
    d--;
  }
  // Special case: merged run is the whole tensor.
  if (d < 0) {
    binaryRun(kind, out, 0, a, 0, ias, b, 0, ibs, inner);
    return;
  }
  const outer = d + 1; // number of odometer dimensions: 0..d
  const idx = new Array<number>(outer).fill(0);
  let total = 1;
  for (let k = 0; k < outer; k++) total *= outShape[k];
  let ao = 0;
  let bo = 0;
  let o = 0;
  for (let t = 0; t < total; t++) {
    binaryRun(kind, out, o, a, ao, ias, b, bo, ibs, inner);
    o += inner;
    // advance odometer
    let k = outer - 1;
    while (k >= 0) {
      idx[k]++;
      ao += sa[k];
      bo += sb[k];
      if (idx[k] < outShape[k]) break;
      ao -= sa[k] * outShape[k];
      bo -= sb[k] * outShape[k];
      idx[k] = 0;
      k--;
    }
  }
}

/**
 * Gathers a strided view into contiguous `out`: out[flat(i)] = src[offset + sum_d i_d * strides[d]].
 * Used to materialise transposed/permuted views and broadcasts (stride 0).
 */
export function stridedCopy(
  src: TensorData,
  offset: number,
  strides: readonly number[],
  shape: readonly number[],
  out: TensorData,
): void {
  const r = shape.length;
  if (r === 0) {
    out[0] = src[offset];
    return;
  }
  let total = 1;
  for (let k = 0; k < r; k++) total *= shape[k];
  if (total === 0) return;
  const inner = shape[r - 1];
  const is = strides[r - 1];
  const outer = r - 1;
  const idx = new Array<number>(outer).fill(0);
  let so = offset;
  let o = 0;
  const runs = total / inner;
  for (let t = 0; t < runs; t++) {
    if (is === 1) {
      for (let i = 0; i < inner; i++) out[o + i] = src[so + i];
    } else {
      for (let i = 0, s = so; i < inner; i++, s += is) out[o + i] = src[s];
    }
    o += inner;
    let k = outer - 1;
    while (k >= 0) {
      idx[k]++;
      so += strides[k];
      if (idx[k] < shape[k]) break;
      so -= strides[k] * shape[k];
      idx[k] = 0;
      k--;
    }
  }
}

/** out[o, j] = sum_k x[o, k, j] for x viewed as [outer, n, inner]. */
export function sumAxisKernel(x: TensorData, outer: number, n: number, inner: number, out: TensorData): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const base = o * n;
      for (let k = 0; k < n; k++) s += x[base + k];
      out[o] = s;
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    for (let j = 0; j < inner; j++) out[ob + j] = 0;
    for (let k = 0; k < n; k++) {
      const xb = (o * n + k) * inner;
      for (let j = 0; j < inner; j++) out[ob + j] += x[xb + j];
    }
  }
}

/**
 * out[o, j] = max_k x[o, k, j]; `arg[o, j]` receives the first maximising k. NaN propagates (a NaN entry is
 * the maximum).
 */
export function maxAxisKernel(
  x: TensorData,
  outer: number,
  n: number,
  inner: number,
  out: TensorData,
  arg: Int32Array,
): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let best = x[base];
      let bestK = 0;
      if (!Number.isNaN(best)) {
        for (let k = 1; k < n; k++) {
          const v = x[base + k * inner];
          if (v > best || Number.isNaN(v)) {
            best = v;
            bestK = k;
            if (Number.isNaN(v)) break;
          }
        }
      }
      out[o * inner + j] = best;
      arg[o * inner + j] = bestK;
    }
  }
}

/** One-hot mask [outer, n, inner] with 1 at the positions recorded by {@link maxAxisKernel}. */
export function argMaskKernel(
  arg: Int32Array,
  outer: number,
  n: number,
  inner: number,
  out: TensorData,
): void {
  out.fill(0);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) out[(o * n + arg[o * inner + j]) * inner + j] = 1;
  }
}

/**
 * Copies x[o, start:start+m, j] (x viewed as [outer, n, inner]) into out [outer, m, inner] when `forward`, or
 * adds/writes the other way round (out is then the source and x the destination) when not.
 */
export function sliceKernel(
  x: TensorData,
  outer: number,
  n: number,
  inner: number,
  start: number,
  m: number,
  out: TensorData,
  forward: boolean,
): void {
  const run = m * inner;
  for (let o = 0; o < outer; o++) {
    const xb = (o * n + start) * inner;
    const ob = o * run;
    if (forward) for (let i = 0; i < run; i++) out[ob + i] = x[xb + i];
    else for (let i = 0; i < run; i++) x[xb + i] = out[ob + i];
  }
}

/**
 * Gather along the middle axis: out[o, j, i] = x[o, idx[o, j, i], i], with x viewed as [outer, n, inner] and
 * idx/out as [outer, m, inner].
 */
export function gatherKernel(
  x: TensorData,
  outer: number,
  n: number,
  inner: number,
  idx: Int32Array,
  m: number,
  out: TensorData,
): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const ib = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) out[ib + i] = x[(o * n + idx[ib + i]) * inner + i];
    }
  }
}

/** The adjoint of {@link gatherKernel}: out[o, idx[o, j, i], i] += src[o, j, i]; `out` must be zeroed. */
export function scatterAddKernel(
  src: TensorData,
  outer: number,
  n: number,
  inner: number,
  idx: Int32Array,
  m: number,
  out: TensorData,
): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const ib = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) out[(o * n + idx[ib + i]) * inner + i] += src[ib + i];
    }
  }
}

/** Geometry of a 2-d convolution, shared by {@link im2colKernel} and {@link col2imKernel}. */
export interface ConvGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly stride: number;
  readonly padding: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/**
 * Unfolds x [N, C, H, W] into columns [N, C*kh*kw, Ho*Wo] (zero padding outside the image), so that a
 * convolution becomes one matrix product per image.
 */
export function im2colKernel(x: TensorData, g: ConvGeometry, out: TensorData): void {
  const { batch, channels, height, width, kernelHeight: kh, kernelWidth: kw, stride, padding } = g;
  const ho = g.outHeight;
  const wo = g.outWidth;
  const l = ho * wo;
  const rows = channels * kh * kw;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const xb = (n * channels + c) * height * width;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const row = (c * kh + ki) * kw + kj;
          const ob = (n * rows + row) * l;
          for (let oi = 0; oi < ho; oi++) {
            const ii = oi * stride - padding + ki;
            const rb = ob + oi * wo;
            if (ii < 0 || ii >= height) {
              for (let oj = 0; oj < wo; oj++) out[rb + oj] = 0;
              continue;
            }
            const xr = xb + ii * width;
            for (let oj = 0; oj < wo; oj++) {
              const jj = oj * stride - padding + kj;
              out[rb + oj] = jj >= 0 && jj < width ? x[xr + jj] : 0;
            }
          }
        }
      }
    }
  }
}

/** The adjoint of {@link im2colKernel}: folds columns back, summing overlaps; `out` [N,C,H,W] must be zeroed. */
export function col2imKernel(cols: TensorData, g: ConvGeometry, out: TensorData): void {
  const { batch, channels, height, width, kernelHeight: kh, kernelWidth: kw, stride, padding } = g;
  const ho = g.outHeight;
  const wo = g.outWidth;
  const l = ho * wo;
  const rows = channels * kh * kw;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const xb = (n * channels + c) * height * width;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const row = (c * kh + ki) * kw + kj;
          const ob = (n * rows + row) * l;
          for (let oi = 0; oi < ho; oi++) {
            const ii = oi * stride - padding + ki;
            if (ii < 0 || ii >= height) continue;
            const rb = ob + oi * wo;
            const xr = xb + ii * width;
            for (let oj = 0; oj < wo; oj++) {
              const jj = oj * stride - padding + kj;
              if (jj >= 0 && jj < width) out[xr + jj] += cols[rb + oj];
            }
          }
        }
      }
    }
  }
}

/** out[i] = mask[i] !== 0 ? a[i] : b[i]. */
export function whereKernel(
  mask: TensorData,
  a: TensorData,
  b: TensorData,
  out: TensorData,
  n: number,
): void {
  for (let i = 0; i < n; i++) out[i] = mask[i] !== 0 ? a[i] : b[i];
}

/** y[i] += alpha * x[i] for i < n. */
export function axpyKernel(alpha: number, x: TensorData, y: TensorData, n: number): void {
  if (alpha === 1) for (let i = 0; i < n; i++) y[i] += x[i];
  else for (let i = 0; i < n; i++) y[i] += alpha * x[i];
}

/** out[r, j] = x[r, j] + b[j] for x [rows, cols] (the bias add of a linear layer), in place when out === x. */
export function addRowVectorKernel(
  x: TensorData,
  b: TensorData,
  rows: number,
  cols: number,
  out: TensorData,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let j = 0; j < cols; j++) out[base + j] = x[base + j] + b[j];
  }
}

/** out[j] (+)= sum_r x[r, j] for x [rows, cols] (the bias gradient of a linear layer). */
export function sumRowsKernel(
  x: TensorData,
  rows: number,
  cols: number,
  out: TensorData,
  accumulate: boolean,
): void {
  if (!accumulate) for (let j = 0; j < cols; j++) out[j] = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let j = 0; j < cols; j++) out[j] += x[base + j];
  }
}
