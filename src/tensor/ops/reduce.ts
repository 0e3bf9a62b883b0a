/**
 * Reductions (sum, mean, max over axes) and the broadcast pair `expand`/`sumTo`, which are each other's VJP.
 */
import { gradMode, type Node, record } from '../../autograd/node.js';
import { formatShape, TensorError } from '../errors.js';
import { argMaskKernel, broadcastStrides, maxAxisKernel, stridedCopy, sumAxisKernel } from '../kernels.js';
import { normalizeAxis, prodRange, sameShape, shapeSize } from '../shape.js';
import { allocLike, Tensor } from '../tensor.js';
import { mul, mulScalar } from './elementwise.js';
import { reshape } from './shape.js';

/** Sorted unique non-negative axes; all axes when `axes` is undefined. */
function normalizeAxes(
  op: string,
  axes: number | readonly number[] | undefined,
  shape: readonly number[],
): number[] {
  const r = shape.length;
  if (axes === undefined) {
    const all = new Array<number>(r);
    for (let i = 0; i < r; i++) all[i] = i;
    return all;
  }
  const list = typeof axes === 'number' ? [axes] : axes;
  const out: number[] = [];
  for (const a of list) {
    const n = normalizeAxis(op, a, r, shape);
    if (out.includes(n)) {
      throw new TensorError('INVALID_ARGUMENT', op, `axis ${a} is repeated in [${list.join(',')}]`);
    }
    out.push(n);
  }
  return out.sort((x, y) => x - y);
}

function keptShape(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (axes.includes(d)) {
      if (keepdim) out.push(1);
    } else out.push(shape[d]);
  }
  return out;
}

function sumVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const x = node.inputs[0];
  if (g.size === 1 && !gradMode.enabled) {
    // Whole-tensor sum without a graph: the cotangent is g broadcast to every entry.
    const o = allocLike(g._data, x.size);
    o.fill(g.item());
    return [new Tensor(o, x.shape)];
  }
  const keepShape = node.aux as number[];
  return [expand(reshape(g, keepShape), x.shape)];
}

/**
 * Sum over `axes` (all axes when omitted). With `keepdim`, reduced axes stay as extent 1.
 */
export function sum(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const xs = x.shape;
  const data = x.data;
  let out: Tensor;
  let keepShape: number[];
  if (axes === undefined) {
    // Whole-tensor sum: the common loss reduction; one loop, no axis bookkeeping.
    let s = 0;
    for (let i = 0; i < data.length; i++) s += data[i];
    const o = allocLike(data, 1);
    o[0] = s;
    keepShape = new Array<number>(xs.length).fill(1);
    out = new Tensor(o, keepdim ? keepShape : []);
  } else {
    const ax = normalizeAxes('sum', axes, xs);
    keepShape = keptShape(xs, ax, true);
    let cur = data;
    const curShape = xs.slice();
    // Reduce the highest axis first so that the lower axes' positions stay valid.
    for (let i = ax.length - 1; i >= 0; i--) {
      const a = ax[i];
      const outer = prodRange(curShape, 0, a);
      const n = curShape[a];
      const inner = prodRange(curShape, a + 1, curShape.length);
      const o = allocLike(data, outer * inner);
      sumAxisKernel(cur, outer, n, inner, o);
      cur = o;
      curShape[a] = 1;
    }
    if (ax.length === 0) cur = cur.slice();
    out = new Tensor(cur, keepdim ? keepShape : keptShape(xs, ax, false));
  }
  if (gradMode.enabled && x.requiresGrad) record(out, 'sum', sumVjp, [x], null, keepShape);
  return out;
}

/** Mean over `axes` (all axes when omitted). */
export function mean(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const s = sum(x, axes, keepdim);
  const count = s.size === 0 ? 0 : x.size / s.size;
  return mulScalar(s, 1 / count);
}

function maxVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const x = node.inputs[0];
  const keepShape = node.aux as number[];
  // The cotangent goes to the first maximising entry (a constant one-hot mask), as a subgradient.
  return [mul(expand(reshape(g, keepShape), x.shape), node.saved as Tensor)];
}

function maxOneAxis(x: Tensor, axis: number): Tensor {
  const xs = x.shape;
  const outer = prodRange(xs, 0, axis);
  const n = xs[axis];
  if (n === 0) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'max',
      `cannot reduce over empty axis ${axis} of shape ${formatShape(xs)}`,
    );
  }
  const inner = prodRange(xs, axis + 1, xs.length);
  const data = x.data;
  const o = allocLike(data, outer * inner);
  const arg = new Int32Array(outer * inner);
  maxAxisKernel(data, outer, n, inner, o, arg);
  const keepShape = xs.slice();
  keepShape[axis] = 1;
  const out = new Tensor(o, keepShape);
  if (gradMode.enabled && x.requiresGrad) {
    const mask = allocLike(data, x.size);
    argMaskKernel(arg, outer, n, inner, mask);
    record(out, 'max', maxVjp, [x], new Tensor(mask, xs), keepShape);
  }
  return out;
}

/**
 * Maximum over `axes` (all axes when omitted). The gradient goes to the first maximal entry along each
 * reduced line.
 */
export function max(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normalizeAxes('max', axes, x.shape);
  let cur = x;
  for (let i = ax.length - 1; i >= 0; i--) cur = maxOneAxis(cur, ax[i]);
  if (ax.length === 0) return cur === x ? reshape(x, x.shape) : cur;
  return keepdim ? cur : reshape(cur, keptShape(x.shape, ax, false));
}

function expandVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [sumTo(g, node.inputs[0].shape)];
}

/**
 * Broadcasts `x` to `shape` (NumPy rules), materialising the result. Returns `x` when the shape already
 * matches.
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const xs = x.shape;
  const off = shape.length - xs.length;
  let ok = off >= 0;
  for (let d = 0; ok && d < xs.length; d++) if (xs[d] !== 1 && xs[d] !== shape[d + off]) ok = false;
  if (!ok) {
    throw new TensorError(
      'NOT_BROADCASTABLE',
      'expand',
      `cannot broadcast shape ${formatShape(xs)} to ${formatShape(shape)}`,
    );
  }
  const o = allocLike(x._data, shapeSize(shape));
  stridedCopy(x.data, 0, broadcastStrides(xs, shape), shape, o);
  const out = new Tensor(o, shape);
  if (gradMode.enabled && x.requiresGrad) record(out, 'expand', expandVjp, [x], null, null);
  return out;
}

/**
 * Sums `g` down to `shape`, the reverse of broadcasting: leading extra dimensions are summed away and
 * dimensions where `shape` has extent 1 are summed with keepdim. Returns `g` when the shape already matches.
 */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const gs = g.shape;
  const off = gs.length - shape.length;
  const axes: number[] = [];
  for (let d = 0; d < gs.length; d++) {
    if (d < off || (shape[d - off] === 1 && gs[d] !== 1)) axes.push(d);
  }
  const s = sum(g, axes, true);
  return reshape(s, shape);
}
