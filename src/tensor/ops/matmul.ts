/**
 * Matrix products: `matmul` (2-d, batched with broadcast batch dimensions, 1-d vectors) and the fused
 * `linear(x, W, b)` = x·Wᵀ + b used by every dense layer.
 *
 * Internally all products go through `matmulFlags(a, b, transA, transB)`, which multiplies op(a)·op(b) where
 * op transposes the last two dimensions. The flags let the backward pass form G·Bᵀ and Aᵀ·G without
 * materialising transposes, and a strided view produced by `transpose` is recognised and turned back into a
 * flag on its base storage. The VJP of a flagged product is again a flagged product, so every order of
 * derivative uses the same kernels.
 */
import { gradMode, type Node, record } from '../../autograd/node.js';
import { formatShape, TensorError } from '../errors.js';
import { addRowVectorKernel, contiguousStrides, sumRowsKernel, type TensorData } from '../kernels.js';
import { gemmKernel } from '../kernels-matmul.js';
import { broadcastShapes, shapeSize } from '../shape.js';
import { allocLike, checkSameDtype, directGradBuffer, Tensor } from '../tensor.js';
import { sum, sumTo } from './reduce.js';
import { reshape } from './shape.js';

/**
 * If `t` is a transpose (last two dims swapped) of contiguous storage, returns that storage; else null.
 * Such a view is what `transpose(W)` produces, and reading the base with the opposite flag avoids a copy.
 */
function transposedBase(t: Tensor): TensorData | null {
  const s = t._strides;
  if (s === null || t._offset !== 0 || t._data.length !== t.size) return null;
  const r = t.shape.length;
  if (r < 2) return null;
  const rows = t.shape[r - 2];
  const cols = t.shape[r - 1];
  if (s[r - 2] !== 1 || s[r - 1] !== rows) return null;
  let acc = rows * cols;
  for (let d = r - 3; d >= 0; d--) {
    if (s[d] !== acc && t.shape[d] !== 1) return null;
    acc *= t.shape[d];
  }
  return t._data;
}

/** op(a)·op(b) over the last two dimensions, broadcasting batch dimensions. Both inputs at least 2-d. */
function matmulFlags(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  if (a._data.constructor !== b._data.constructor) checkSameDtype('matmul', a, b);
  const as = a.shape;
  const bs = b.shape;
  const ra = as.length;
  const rb = bs.length;
  const m = transA ? as[ra - 1] : as[ra - 2];
  const ka = transA ? as[ra - 2] : as[ra - 1];
  const kb = transB ? bs[rb - 1] : bs[rb - 2];
  const n = transB ? bs[rb - 2] : bs[rb - 1];
  if (ka !== kb) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'matmul',
      `inner dimensions differ: ${formatShape(as)}${transA ? 'ᵀ' : ''} @ ${formatShape(bs)}${transB ? 'ᵀ' : ''} (${ka} vs ${kb})`,
    );
  }
  // Storage and effective flags: a transposed view flips the flag and reads its base.
  let ad = transposedBase(a);
  let ta = transA;
  if (ad !== null) ta = !ta;
  else ad = a.data;
  let bd = transposedBase(b);
  let tb = transB;
  if (bd !== null) tb = !tb;
  else bd = b.data;

  let out: Tensor;
  if (ra === 2 && rb === 2) {
    const o = allocLike(ad, m * n);
    gemmKernel(ta, tb, m, n, ka, ad, 0, bd, 0, o, 0, false);
    out = new Tensor(o, [m, n]);
  } else {
    const batchA = as.slice(0, ra - 2);
    const batchB = bs.slice(0, rb - 2);
    const batch = broadcastShapes('matmul', batchA, batchB);
    const nb = shapeSize(batch);
    const o = allocLike(ad, nb * m * n);
    // Offsets of each batch entry in a and b (0 stride on broadcast dims).
    const sa = batchStrides(batchA, batch, m * ka);
    const sb = batchStrides(batchB, batch, ka * n);
    const idx = new Array<number>(batch.length).fill(0);
    let ao = 0;
    let bo = 0;
    for (let t = 0; t < nb; t++) {
      gemmKernel(ta, tb, m, n, ka, ad, ao, bd, bo, o, t * m * n, false);
      for (let d = batch.length - 1; d >= 0; d--) {
        idx[d]++;
        ao += sa[d];
        bo += sb[d];
        if (idx[d] < batch[d]) break;
        ao -= sa[d] * batch[d];
        bo -= sb[d] * batch[d];
        idx[d] = 0;
      }
    }
    out = new Tensor(o, [...batch, m, n]);
  }
  if (gradMode.enabled && (a.requiresGrad || b.requiresGrad)) {
    record(out, 'matmul', matmulVjp, [a, b], null, (transA ? 1 : 0) | (transB ? 2 : 0));
  }
  return out;
}

function batchStrides(shape: readonly number[], batch: readonly number[], block: number): number[] {
  const off = batch.length - shape.length;
  const s = new Array<number>(batch.length).fill(0);
  const cs = contiguousStrides(shape);
  for (let d = 0; d < shape.length; d++) s[d + off] = shape[d] === 1 ? 0 : cs[d] * block;
  return s;
}

function matmulVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const [a, b] = node.inputs;
  const flags = node.aux as number;
  const ta = (flags & 1) !== 0;
  const tb = (flags & 2) !== 0;
  let ga: Tensor | null = null;
  let gb: Tensor | null = null;
  if (a.requiresGrad) {
    ga = ta ? matmulFlags(b, g, tb, true) : matmulFlags(g, b, false, !tb);
    ga = sumTo(ga, a.shape);
  }
  if (b.requiresGrad) {
    gb = tb ? matmulFlags(g, a, true, ta) : matmulFlags(a, g, !ta, false);
    gb = sumTo(gb, b.shape);
  }
  return [ga, gb];
}

/**
 * Matrix product with NumPy `matmul` semantics: [..., m, k] @ [..., k, n] → [..., m, n] with broadcast batch
 * dimensions; a 1-d left operand is a row vector and a 1-d right operand a column vector (the added
 * dimension is removed from the result).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'matmul',
      `operands must be at least 1-d, got ${formatShape(a.shape)} @ ${formatShape(b.shape)}`,
    );
  }
  if (a.ndim >= 2 && b.ndim >= 2) return matmulFlags(a, b, false, false);
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0], 1]) : b;
  if (a2.shape[a2.ndim - 1] !== b2.shape[b2.ndim - 2]) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'matmul',
      `inner dimensions differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)}`,
    );
  }
  const c = matmulFlags(a2, b2, false, false);
  const s = c.shape.slice();
  if (b.ndim === 1) s.pop();
  if (a.ndim === 1) s.splice(s.length - (b.ndim === 1 ? 1 : 2), 1);
  return reshape(c, s);
}

function linearVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const x = node.inputs[0];
  const w = node.inputs[1];
  const bias = node.inputs.length > 2 ? node.inputs[2] : null;
  const outF = w.shape[0];
  const inF = w.shape[1];
  const rows = x.size / inF;
  if (!gradMode.enabled) {
    // Fused no-graph path: three raw kernel calls, no intermediate tensors.
    const gd = g.data;
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gbias: Tensor | null = null;
    if (x.requiresGrad) {
      const o = allocLike(gd, rows * inF);
      gemmKernel(false, false, rows, inF, outF, gd, 0, w.data, 0, o, 0, false);
      gx = new Tensor(o, x.shape);
    }
    if (w.requiresGrad) {
      // Accumulate straight into the parameter's gradient buffer when the engine allows it.
      const direct = directGradBuffer(w);
      if (direct !== null) gemmKernel(true, false, outF, inF, rows, gd, 0, x.data, 0, direct, 0, true);
      else {
        const o = allocLike(gd, outF * inF);
        gemmKernel(true, false, outF, inF, rows, gd, 0, x.data, 0, o, 0, false);
        gw = new Tensor(o, w.shape);
      }
    }
    if (bias?.requiresGrad) {
      const direct = directGradBuffer(bias);
      if (direct !== null) sumRowsKernel(gd, rows, outF, direct, true);
      else {
        const o = allocLike(gd, outF);
        sumRowsKernel(gd, rows, outF, o, false);
        gbias = new Tensor(o, bias.shape);
      }
    }
    return bias === null ? [gx, gw] : [gx, gw, gbias];
  }
  const g2 = reshape(g, [rows, outF]);
  const x2 = reshape(x, [rows, inF]);
  const gx = x.requiresGrad ? reshape(matmulFlags(g2, w, false, false), x.shape) : null;
  const gw = w.requiresGrad ? matmulFlags(g2, x2, true, false) : null;
  if (bias === null) return [gx, gw];
  return [gx, gw, bias.requiresGrad ? sum(g2, 0) : null];
}

/**
 * Dense layer y = x·Wᵀ + b with PyTorch's weight layout: x [..., in], weight [out, in], bias [out] or null;
 * y [..., out]. One fused op (one node, one output allocation) because small MLPs dominate the cost of
 * neural ODEs.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const ws = weight.shape;
  const xs = x.shape;
  if (ws.length !== 2 || xs.length === 0 || xs[xs.length - 1] !== ws[1]) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'linear',
      `input ${formatShape(xs)} does not match weight ${formatShape(ws)} (expected x [..., ${ws.length === 2 ? ws[1] : '?'}] and weight [out, in])`,
    );
  }
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== ws[0])) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'linear',
      `bias ${formatShape(bias.shape)} does not match weight ${formatShape(ws)}; expected [${ws[0]}]`,
    );
  }
  if (x._data.constructor !== weight._data.constructor) checkSameDtype('linear', x, weight);
  if (bias !== null && bias._data.constructor !== weight._data.constructor)
    checkSameDtype('linear', bias, weight);
  const outF = ws[0];
  const inF = ws[1];
  const rows = x.size / inF;
  const xd = x.data;
  let wd = transposedBase(weight);
  const transW = wd === null;
  if (wd === null) wd = weight.data;
  const o = allocLike(xd, rows * outF);
  gemmKernel(false, transW, rows, outF, inF, xd, 0, wd, 0, o, 0, false);
  if (bias !== null) addRowVectorKernel(o, bias.data, rows, outF, o);
  let shape: number[];
  if (xs.length === 2) shape = [xs[0], outF];
  else {
    shape = xs.slice();
    shape[shape.length - 1] = outF;
  }
  const out = new Tensor(o, shape);
  if (gradMode.enabled && (x.requiresGrad || weight.requiresGrad || bias?.requiresGrad)) {
    record(out, 'linear', linearVjp, bias === null ? [x, weight] : [x, weight, bias], null, null);
  }
  return out;
}

/** @internal Flagged product, exported for ops built on it (convolution). */
export { matmulFlags };
