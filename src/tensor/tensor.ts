/**
 * The dense n-d tensor of neuralode.
 *
 * Layout and views. A tensor is row-major storage (`Float64Array` by default, `Float32Array` on request) plus a
 * shape. Contiguous tensors own or share a typed array of exactly `size` elements; `reshape`, `detach` and
 * parameter views (`Tensor.leafView`) share it in O(1). `transpose`/`permute` return *strided* views over the
 * same storage (`strides` + `offset`) in O(1). Kernels want unit-stride data, so the first access to `data` of a
 * strided view materialises it once into contiguous storage (the view then stops aliasing its base; ops treat
 * tensors as values, so only in-place writes to the base after that point would be invisible, and ops never
 * write in place). `matmul` and `linear` look at the strides first: a transposed matrix view is consumed through
 * the kernel's transposition flag without any copy.
 *
 * All tensors share one hidden class: every field is initialised in the constructor in the same order, and
 * optional state uses `null`, which keeps property access monomorphic on the hot path.
 */
import { backward as runBackward } from '../autograd/engine.js';
import { gradMode, type Node } from '../autograd/node.js';
import { formatShape, TensorError } from './errors.js';
import { stridedCopy, type TensorData } from './kernels.js';
import * as ew from './ops/elementwise.js';
import * as mm from './ops/matmul.js';
import * as red from './ops/reduce.js';
import * as sh from './ops/shape.js';
import { checkShape, shapeSize } from './shape.js';
import { allocLike } from './storage.js';

export { allocLike };

/** Element type of a tensor's storage. */
export type DType = 'float64' | 'float32';
export type { TensorData };

/** Options of {@link Tensor.backward}. */
export interface BackwardOptions {
  /**
   * Record the backward pass itself so the resulting `.grad` tensors are differentiable (higher order).
   * Default false.
   */
  readonly createGraph?: boolean;
  /** Keep the graph so that another backward pass can run through it. Default: equal to `createGraph`. */
  readonly retainGraph?: boolean;
}

export class Tensor {
  /** @internal Storage; for strided views the base storage (see `strides`/`offset`). */
  _data: TensorData;
  /** Extent of each dimension. Treat as read-only. */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  /** @internal Element strides of a strided view, or null when contiguous. */
  _strides: number[] | null;
  /** @internal Offset of a strided view into `_data`. */
  _offset: number;
  /** Whether gradients flow to/through this tensor. Set it on leaves; ops set it on their outputs. */
  requiresGrad: boolean;
  /** Accumulated gradient after {@link Tensor.backward}, or null. */
  grad: Tensor | null;
  /**
   * Preallocated storage that receives this leaf's gradient (accumulated in place), e.g. a view into one flat
   * gradient vector shared by all parameters of a model. See {@link Tensor.leafView}.
   */
  gradBuffer: TensorData | null;
  /** The operation that produced this tensor, or null for leaves and untracked tensors. */
  node: Node | null;
  /** @internal Cotangent accumulator used during a backward pass. */
  _acc: Tensor | null;
  /** @internal Visit stamp used by the topological sort. */
  _mark: number;

  /**
   * Wraps `data` (not copied) as a tensor of the given shape. `data.length` must equal the product of `shape`.
   * Use the factories (`fromArray`, `zeros`, ...) for validated construction from plain arrays.
   */
  constructor(data: TensorData, shape: readonly number[], requiresGrad = false) {
    const size = shapeSize(shape);
    if (data.length !== size) {
      checkShape('Tensor', shape);
      throw new TensorError(
        'SHAPE_MISMATCH',
        'Tensor',
        `data has ${data.length} elements but shape ${formatShape(shape)} needs ${size}`,
      );
    }
    this._data = data;
    this.shape = shape;
    this.size = size;
    this._strides = null;
    this._offset = 0;
    this.requiresGrad = requiresGrad;
    this.grad = null;
    this.gradBuffer = null;
    this.node = null;
    this._acc = null;
    this._mark = 0;
  }

  /**
   * A leaf parameter whose values are `data` (typically `flat.subarray(off, off + n)`) and whose gradient is
   * accumulated in place into `gradView` (typically `flatGrad.subarray(off, off + n)`), so that optimizers see
   * all parameters and all gradients as two flat vectors without copying. `.grad` is then a tensor over
   * `gradView`.
   */
  static leafView(data: TensorData, shape: readonly number[], gradView: TensorData | null = null): Tensor {
    const t = new Tensor(data, shape, true);
    if (gradView !== null) {
      if (gradView.length !== t.size) {
        throw new TensorError(
          'SHAPE_MISMATCH',
          'Tensor.leafView',
          `gradView has ${gradView.length} elements but shape ${formatShape(shape)} needs ${t.size}`,
        );
      }
      if (gradView.constructor !== data.constructor) {
        throw new TensorError(
          'DTYPE_MISMATCH',
          'Tensor.leafView',
          'gradView must have the same dtype as data',
        );
      }
      t.gradBuffer = gradView;
      t.grad = new Tensor(gradView, shape);
    }
    return t;
  }

  /** @internal A strided view over `base` storage; no copy. */
  static _strided(base: TensorData, offset: number, shape: readonly number[], strides: number[]): Tensor {
    const t = new Tensor(EMPTY, []);
    (t as { shape: readonly number[] }).shape = shape;
    (t as { size: number }).size = shapeSize(shape);
    t._data = base;
    t._offset = offset;
    t._strides = strides;
    return t;
  }

  /**
   * Contiguous storage of exactly `size` elements in row-major order. For a strided view this materialises the
   * view on first access (once).
   */
  get data(): TensorData {
    if (this._strides !== null) this._materialize();
    return this._data;
  }

  /** @internal */
  _materialize(): void {
    const out = allocLike(this._data, this.size);
    stridedCopy(this._data, this._offset, this._strides as number[], this.shape, out);
    this._data = out;
    this._strides = null;
    this._offset = 0;
  }

  /** `'float64'` or `'float32'`. */
  get dtype(): DType {
    return this._data instanceof Float32Array ? 'float32' : 'float64';
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** True for tensors not produced by a recorded operation. */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** Whether this tensor is a strided (not yet materialised) view. */
  get isContiguous(): boolean {
    return this._strides === null;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new TensorError(
        'SHAPE_MISMATCH',
        'item',
        `only one-element tensors convert to a number; got shape ${formatShape(this.shape)}`,
      );
    }
    return this._strides === null ? this._data[0] : this._data[this._offset];
  }

  /** A nested JavaScript array (a number for 0-d tensors). */
  toArray(): number | NestedArray {
    const data = this.data;
    if (this.shape.length === 0) return data[0];
    const build = (dim: number, offset: number): NestedArray => {
      const n = this.shape[dim];
      const out: NestedArray = new Array(n);
      if (dim === this.shape.length - 1) {
        for (let i = 0; i < n; i++) out[i] = data[offset + i];
      } else {
        let stride = 1;
        for (let d = dim + 1; d < this.shape.length; d++) stride *= this.shape[d];
        for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * stride);
      }
      return out;
    };
    return build(0, 0);
  }

  /** A tensor sharing this tensor's storage but cut from the graph (no grad). */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy with fresh storage, cut from the graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Marks this leaf as requiring grad (or not) and returns it. */
  requireGrad(flag = true): this {
    if (this.node !== null && !flag) {
      throw new TensorError(
        'INVALID_ARGUMENT',
        'requireGrad',
        'cannot turn off requiresGrad on a non-leaf tensor; use detach()',
      );
    }
    this.requiresGrad = flag;
    return this;
  }

  /** Clears `.grad` (zero-fills `gradBuffer` when present, keeping `.grad` as its view). */
  zeroGrad(): void {
    if (this.gradBuffer !== null) {
      this.gradBuffer.fill(0);
      if (this.grad === null || this.grad._data !== this.gradBuffer)
        this.grad = new Tensor(this.gradBuffer, this.shape);
    } else {
      this.grad = null;
    }
  }

  /**
   * Reverse-mode autodiff from this tensor: accumulates d(this)/d(leaf) · seed into `.grad` of every leaf that
   * requires grad. `seed` defaults to 1 and is required for non-scalar tensors.
   */
  backward(seed?: Tensor, options?: BackwardOptions): void {
    runBackward(this, seed ?? null, options);
  }

  // --- Method forms of the common operations (see the free functions for documentation). ---
  add(other: Tensor | number): Tensor {
    return ew.add(this, other);
  }
  sub(other: Tensor | number): Tensor {
    return ew.sub(this, other);
  }
  mul(other: Tensor | number): Tensor {
    return ew.mul(this, other);
  }
  div(other: Tensor | number): Tensor {
    return ew.div(this, other);
  }
  pow(exponent: Tensor | number): Tensor {
    return ew.pow(this, exponent);
  }
  neg(): Tensor {
    return ew.neg(this);
  }
  exp(): Tensor {
    return ew.exp(this);
  }
  log(): Tensor {
    return ew.log(this);
  }
  sqrt(): Tensor {
    return ew.sqrt(this);
  }
  abs(): Tensor {
    return ew.abs(this);
  }
  square(): Tensor {
    return ew.square(this);
  }
  sin(): Tensor {
    return ew.sin(this);
  }
  cos(): Tensor {
    return ew.cos(this);
  }
  tanh(): Tensor {
    return ew.tanh(this);
  }
  sigmoid(): Tensor {
    return ew.sigmoid(this);
  }
  relu(): Tensor {
    return ew.relu(this);
  }
  matmul(other: Tensor): Tensor {
    return mm.matmul(this, other);
  }
  sum(axes?: number | readonly number[], keepdim = false): Tensor {
    return red.sum(this, axes, keepdim);
  }
  mean(axes?: number | readonly number[], keepdim = false): Tensor {
    return red.mean(this, axes, keepdim);
  }
  max(axes?: number | readonly number[], keepdim = false): Tensor {
    return red.max(this, axes, keepdim);
  }
  reshape(shape: readonly number[]): Tensor {
    return sh.reshape(this, shape);
  }
  transpose(axis0 = -2, axis1 = -1): Tensor {
    return sh.transpose(this, axis0, axis1);
  }
  permute(order: readonly number[]): Tensor {
    return sh.permute(this, order);
  }
}

/** Nested arrays returned by {@link Tensor.toArray}. */
export type NestedArray = (number | NestedArray)[];

const EMPTY = new Float64Array(1);

/** @internal Throws DTYPE_MISMATCH unless both tensors have the same dtype. */
export function checkSameDtype(op: string, a: Tensor, b: Tensor): void {
  if (a._data.constructor !== b._data.constructor) {
    throw new TensorError(
      'DTYPE_MISMATCH',
      op,
      `cannot mix ${a.dtype} ${formatShape(a.shape)} and ${b.dtype} ${formatShape(b.shape)}; convert one with astype()`,
    );
  }
}

/**
 * @internal The storage a VJP may accumulate `t`'s cotangent into directly, or null when it must return the
 * cotangent instead (see `gradMode.intoLeaves`).
 */
export function directGradBuffer(t: Tensor): TensorData | null {
  const buf = t.gradBuffer;
  if (!gradMode.intoLeaves || buf === null || t.node !== null || !t.requiresGrad) return null;
  if (t.grad === null || t.grad._data !== buf) t.grad = new Tensor(buf, t.shape);
  return buf;
}

/** @internal Whether an op with these inputs must be recorded. */
export function tracks1(a: Tensor): boolean {
  return gradMode.enabled && a.requiresGrad;
}

/** @internal Whether an op with these inputs must be recorded. */
export function tracks2(a: Tensor, b: Tensor): boolean {
  return gradMode.enabled && (a.requiresGrad || b.requiresGrad);
}
