/**
 * Shape and indexing operations: reshape (O(1), shares storage), transpose/permute (O(1) strided views),
 * slice/select, concat/stack, gather/scatterAdd.
 */
import { gradMode, type Node, record } from '../../autograd/node.js';
import { formatShape, TensorError } from '../errors.js';
import { contiguousStrides, gatherKernel, scatterAddKernel, sliceKernel } from '../kernels.js';
import { checkShape, normalizeAxis, prodRange, sameShape, shapeSize } from '../shape.js';
import { allocLike, checkSameDtype, Tensor } from '../tensor.js';

function reshapeVjp(node: Node, g: Tensor): (Tensor | null)[] {
  return [reshape(g, node.inputs[0].shape)];
}

/**
 * A tensor with the same elements in row-major order and a new shape; one extent may be -1 (inferred).
 * Shares storage with `x` (O(1)); a strided view is materialised first.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  let target = shape;
  let infer = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === -1 && infer < 0) infer = i;
    else if (!Number.isInteger(d) || d < 0) checkShape('reshape', shape);
    else known *= d;
  }
  if (infer >= 0) {
    if (known === 0 || x.size % known !== 0) {
      throw new TensorError(
        'SHAPE_MISMATCH',
        'reshape',
        `cannot reshape ${formatShape(x.shape)} (size ${x.size}) to ${formatShape(shape)}`,
      );
    }
    const t = shape.slice();
    t[infer] = x.size / known;
    target = t;
  } else if (known !== x.size) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'reshape',
      `cannot reshape ${formatShape(x.shape)} (size ${x.size}) to ${formatShape(shape)}`,
    );
  }
  const out = new Tensor(x.data, target);
  if (gradMode.enabled && x.requiresGrad) record(out, 'reshape', reshapeVjp, [x], null, null);
  return out;
}

/** Flattens dimensions `startAxis..` into one (default: everything after the first, as for a batch). */
export function flatten(x: Tensor, startAxis = 1): Tensor {
  const a = normalizeAxis('flatten', startAxis, x.ndim, x.shape);
  return reshape(x, [...x.shape.slice(0, a), prodRange(x.shape, a, x.ndim)]);
}

/** Inserts an extent-1 dimension at `axis` (which may equal ndim, or be negative). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('unsqueeze', axis, x.ndim + 1, x.shape);
  const s = x.shape.slice();
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/** Removes the extent-1 dimension `axis` (or all extent-1 dimensions when omitted). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const a = normalizeAxis('squeeze', axis, x.ndim, x.shape);
  if (x.shape[a] !== 1) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'squeeze',
      `axis ${axis} of shape ${formatShape(x.shape)} has extent ${x.shape[a]}, not 1`,
    );
  }
  const s = x.shape.slice();
  s.splice(a, 1);
  return reshape(x, s);
}

function permuteVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const order = node.aux as number[];
  const inv = new Array<number>(order.length);
  for (let i = 0; i < order.length; i++) inv[order[i]] = i;
  return [permute(g, inv)];
}

/**
 * Reorders dimensions: result dimension i is input dimension order[i]. O(1): returns a strided view of the
 * same storage (materialised on first `.data` access, or consumed directly by matmul/linear when it is a
 * matrix transpose).
 */
export function permute(x: Tensor, order: readonly number[]): Tensor {
  const r = x.ndim;
  if (order.length !== r) {
    throw new TensorError(
      'INVALID_ARGUMENT',
      'permute',
      `order [${order.join(',')}] must list all ${r} axes of shape ${formatShape(x.shape)}`,
    );
  }
  const seen = new Array<boolean>(r).fill(false);
  const ord = new Array<number>(r);
  let identity = true;
  for (let i = 0; i < r; i++) {
    const a = normalizeAxis('permute', order[i], r, x.shape);
    if (seen[a]) {
      throw new TensorError(
        'INVALID_ARGUMENT',
        'permute',
        `order [${order.join(',')}] repeats axis ${order[i]}`,
      );
    }
    seen[a] = true;
    ord[i] = a;
    if (a !== i) identity = false;
  }
  if (identity) return x;
  const baseStrides = x._strides ?? contiguousStrides(x.shape);
  const shape = new Array<number>(r);
  const strides = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    shape[i] = x.shape[ord[i]];
    strides[i] = baseStrides[ord[i]];
  }
  const out = Tensor._strided(x._data, x._offset, shape, strides);
  if (gradMode.enabled && x.requiresGrad) record(out, 'permute', permuteVjp, [x], null, ord);
  return out;
}

/** Swaps two dimensions (default: the last two, i.e. the matrix transpose). O(1) strided view. */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  if (x.ndim < 2 && axis0 === -2 && axis1 === -1) return x;
  const a = normalizeAxis('transpose', axis0, x.ndim, x.shape);
  const b = normalizeAxis('transpose', axis1, x.ndim, x.shape);
  const order = new Array<number>(x.ndim);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order[a] = b;
  order[b] = a;
  return permute(x, order);
}

interface SliceAux {
  readonly axis: number;
  readonly start: number;
  readonly n: number;
}

function sliceVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const { axis, start, n } = node.aux as SliceAux;
  return [padSlice(g, axis, start, n)];
}

function padSliceVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const { axis, start } = node.aux as SliceAux;
  const m = node.inputs[0].shape[axis];
  return [slice(g, axis, start, start + m)];
}

/** Zero tensor with extent `n` on `axis`, holding `x` at positions start..start+m (the adjoint of slice). */
function padSlice(x: Tensor, axis: number, start: number, n: number): Tensor {
  const shape = x.shape.slice();
  const m = shape[axis];
  shape[axis] = n;
  const o = allocLike(x._data, shapeSize(shape));
  const outer = prodRange(shape, 0, axis);
  const inner = prodRange(shape, axis + 1, shape.length);
  sliceKernel(o, outer, n, inner, start, m, x.data, false);
  const out = new Tensor(o, shape);
  if (gradMode.enabled && x.requiresGrad) record(out, 'padSlice', padSliceVjp, [x], null, { axis, start, n });
  return out;
}

/**
 * Elements start..end−1 along `axis` (a copy). Negative `start`/`end` count from the end; `end` defaults to
 * the extent.
 */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = normalizeAxis('slice', axis, x.ndim, x.shape);
  const n = x.shape[a];
  let s = start < 0 ? start + n : start;
  let e = end === undefined ? n : end < 0 ? end + n : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > n || s > e) {
    throw new TensorError(
      'INDEX_OUT_OF_RANGE',
      'slice',
      `range [${start}, ${end ?? n}) is invalid for axis ${axis} of shape ${formatShape(x.shape)}`,
    );
  }
  s = s | 0;
  e = e | 0;
  const shape = x.shape.slice();
  shape[a] = e - s;
  const outer = prodRange(x.shape, 0, a);
  const inner = prodRange(x.shape, a + 1, x.ndim);
  const o = allocLike(x._data, shapeSize(shape));
  sliceKernel(x.data, outer, n, inner, s, e - s, o, true);
  const out = new Tensor(o, shape);
  if (gradMode.enabled && x.requiresGrad) record(out, 'slice', sliceVjp, [x], null, { axis: a, start: s, n });
  return out;
}

/** The sub-tensor at `index` along `axis`, with that axis removed (x[i] for axis 0). */
export function select(x: Tensor, axis: number, index: number): Tensor {
  const a = normalizeAxis('select', axis, x.ndim, x.shape);
  const n = x.shape[a];
  const i = index < 0 ? index + n : index;
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new TensorError(
      'INDEX_OUT_OF_RANGE',
      'select',
      `index ${index} is out of range for axis ${axis} of shape ${formatShape(x.shape)}`,
    );
  }
  const s = x.shape.slice();
  s.splice(a, 1);
  return reshape(slice(x, a, i, i + 1), s);
}

function concatVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const { axis, offsets } = node.aux as { axis: number; offsets: number[] };
  const ins = node.inputs;
  const out: (Tensor | null)[] = new Array(ins.length);
  for (let i = 0; i < ins.length; i++) {
    out[i] = ins[i].requiresGrad ? slice(g, axis, offsets[i], offsets[i] + ins[i].shape[axis]) : null;
  }
  return out;
}

/** Joins tensors along an existing `axis`; all other extents must agree. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new TensorError('INVALID_ARGUMENT', 'concat', 'needs at least one tensor');
  const first = tensors[0];
  const a = normalizeAxis('concat', axis, first.ndim, first.shape);
  const offsets: number[] = [];
  let total = 0;
  for (const t of tensors) {
    checkSameDtype('concat', first, t);
    let ok = t.ndim === first.ndim;
    for (let d = 0; ok && d < t.ndim; d++) if (d !== a && t.shape[d] !== first.shape[d]) ok = false;
    if (!ok) {
      throw new TensorError(
        'SHAPE_MISMATCH',
        'concat',
        `shapes ${tensors.map((u) => formatShape(u.shape)).join(', ')} differ outside axis ${axis}`,
      );
    }
    offsets.push(total);
    total += t.shape[a];
  }
  const shape = first.shape.slice();
  shape[a] = total;
  const outer = prodRange(shape, 0, a);
  const inner = prodRange(shape, a + 1, shape.length);
  const o = allocLike(first._data, shapeSize(shape));
  let anyGrad = false;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    sliceKernel(o, outer, total, inner, offsets[i], t.shape[a], t.data, false);
    if (t.requiresGrad) anyGrad = true;
  }
  const out = new Tensor(o, shape);
  if (gradMode.enabled && anyGrad)
    record(out, 'concat', concatVjp, tensors.slice(), null, { axis: a, offsets });
  return out;
}

/** Stacks equally shaped tensors along a new `axis`. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new TensorError('INVALID_ARGUMENT', 'stack', 'needs at least one tensor');
  for (const t of tensors) {
    if (!sameShape(t.shape, tensors[0].shape)) {
      throw new TensorError(
        'SHAPE_MISMATCH',
        'stack',
        `shapes ${tensors.map((u) => formatShape(u.shape)).join(', ')} differ`,
      );
    }
  }
  const a = normalizeAxis('stack', axis, tensors[0].ndim + 1, tensors[0].shape);
  return concat(
    tensors.map((t) => unsqueeze(t, a)),
    a,
  );
}

/** Validated integer indices with the shape of `x` except along the gathered axis. */
function toIndex(
  op: string,
  x: Tensor,
  axis: number,
  index: Tensor | Int32Array | readonly number[],
  extent: number,
) {
  const other = x.size / (x.shape[axis] || 1);
  let values: ArrayLike<number>;
  let shape: number[];
  if (index instanceof Tensor) {
    values = index.data;
    shape = index.shape.slice();
    let ok = shape.length === x.ndim;
    for (let d = 0; ok && d < shape.length; d++) if (d !== axis && shape[d] !== x.shape[d]) ok = false;
    if (!ok) {
      throw new TensorError(
        'SHAPE_MISMATCH',
        op,
        `index shape ${formatShape(shape)} must match input shape ${formatShape(x.shape)} except on axis ${axis}`,
      );
    }
  } else {
    values = index;
    if (other === 0 || values.length % other !== 0) {
      throw new TensorError(
        'SHAPE_MISMATCH',
        op,
        `${values.length} indices do not fit input shape ${formatShape(x.shape)} on axis ${axis}`,
      );
    }
    shape = x.shape.slice();
    shape[axis] = values.length / other;
  }
  const idx = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= extent) {
      throw new TensorError(
        'INDEX_OUT_OF_RANGE',
        op,
        `index ${v} at flat position ${i} is not an integer in [0, ${extent}) for axis ${axis} of shape ${formatShape(x.shape)}`,
      );
    }
    idx[i] = v;
  }
  return { idx, shape };
}

interface GatherAux {
  readonly axis: number;
  readonly idx: Int32Array;
  readonly n: number;
}

function gatherVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const { axis, idx, n } = node.aux as GatherAux;
  return [scatterAddRaw(g, axis, idx, n)];
}

function scatterAddVjp(node: Node, g: Tensor): (Tensor | null)[] {
  const { axis, idx } = node.aux as GatherAux;
  return [gatherRaw(g, axis, idx, node.inputs[0].shape)];
}

function gatherRaw(x: Tensor, axis: number, idx: Int32Array, idxShape: readonly number[]): Tensor {
  const outer = prodRange(x.shape, 0, axis);
  const n = x.shape[axis];
  const inner = prodRange(x.shape, axis + 1, x.ndim);
  const m = idxShape[axis];
  const o = allocLike(x._data, idx.length);
  gatherKernel(x.data, outer, n, inner, idx, m, o);
  const out = new Tensor(o, idxShape);
  if (gradMode.enabled && x.requiresGrad) record(out, 'gather', gatherVjp, [x], null, { axis, idx, n });
  return out;
}

function scatterAddRaw(src: Tensor, axis: number, idx: Int32Array, n: number): Tensor {
  const shape = src.shape.slice();
  const m = shape[axis];
  shape[axis] = n;
  const outer = prodRange(shape, 0, axis);
  const inner = prodRange(shape, axis + 1, shape.length);
  const o = allocLike(src._data, shapeSize(shape));
  scatterAddKernel(src.data, outer, n, inner, idx, m, o);
  const out = new Tensor(o, shape);
  if (gradMode.enabled && src.requiresGrad)
    record(out, 'scatterAdd', scatterAddVjp, [src], null, { axis, idx, n });
  return out;
}

/**
 * out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis` (as `torch.gather`). `index` is an
 * integer-valued tensor of the input's shape except on `axis`, or a flat integer array in that layout.
 */
export function gather(x: Tensor, axis: number, index: Tensor | Int32Array | readonly number[]): Tensor {
  const a = normalizeAxis('gather', axis, x.ndim, x.shape);
  const { idx, shape } = toIndex('gather', x, a, index, x.shape[a]);
  return gatherRaw(x, a, idx, shape);
}

/**
 * The adjoint of gather: a zero tensor with extent `size` on `axis` into which src[..., j, ...] is added at
 * position index[..., j, ...].
 */
export function scatterAdd(
  src: Tensor,
  axis: number,
  index: Tensor | Int32Array | readonly number[],
  size: number,
): Tensor {
  const a = normalizeAxis('scatterAdd', axis, src.ndim, src.shape);
  const { idx } = toIndex('scatterAdd', src, a, index, size);
  if (idx.length !== src.size) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'scatterAdd',
      `index has ${idx.length} entries but src ${formatShape(src.shape)} has ${src.size}`,
    );
  }
  return scatterAddRaw(src, a, idx, size);
}
