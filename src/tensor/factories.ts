/**
 * Tensor factories. All take an optional `{ dtype, requiresGrad }`; random ones take an explicit {@link Rng}
 * so that every run is reproducible from its seed.
 */
import type { Rng } from '../random/index.js';
import { formatShape, TensorError } from './errors.js';
import type { TensorData } from './kernels.js';
import { checkShape, shapeSize } from './shape.js';
import { type DType, type NestedArray, Tensor } from './tensor.js';

/** Options shared by the factories. */
export interface TensorOptions {
  /** Storage type; default `'float64'`. */
  readonly dtype?: DType;
  /** Make the result a leaf that requires grad. Default false. */
  readonly requiresGrad?: boolean;
}

function alloc(op: string, n: number, dtype: DType | undefined): TensorData {
  if (dtype === undefined || dtype === 'float64') return new Float64Array(n);
  if (dtype === 'float32') return new Float32Array(n);
  throw new TensorError('INVALID_ARGUMENT', op, `dtype must be 'float64' or 'float32', got ${String(dtype)}`);
}

function make(op: string, shape: readonly number[], options: TensorOptions | undefined): Tensor {
  checkShape(op, shape);
  return new Tensor(
    alloc(op, shapeSize(shape), options?.dtype),
    shape.slice(),
    options?.requiresGrad ?? false,
  );
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options?: TensorOptions): Tensor {
  return make('zeros', shape, options);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options?: TensorOptions): Tensor {
  return full(shape, 1, options);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, options?: TensorOptions): Tensor {
  const t = make('full', shape, options);
  t._data.fill(value);
  return t;
}

/** Zeros with the shape and dtype of `like`. */
export function zerosLike(like: Tensor, options?: TensorOptions): Tensor {
  return zeros(like.shape, { dtype: like.dtype, ...options });
}

/** Ones with the shape and dtype of `like`. */
export function onesLike(like: Tensor, options?: TensorOptions): Tensor {
  return ones(like.shape, { dtype: like.dtype, ...options });
}

/** A 0-d tensor holding `value`. */
export function scalar(value: number, options?: TensorOptions): Tensor {
  const t = make('scalar', [], options);
  t._data[0] = value;
  return t;
}

/** Standard normal entries scaled by `std` and shifted by `mean`, drawn from `rng`. */
export function randn(
  shape: readonly number[],
  rng: Rng,
  options?: TensorOptions & { mean?: number; std?: number },
): Tensor {
  const t = make('randn', shape, options);
  rng.fillNormal(t._data, options?.mean ?? 0, options?.std ?? 1);
  return t;
}

/** Uniform entries on [low, high) (default [0, 1)) drawn from `rng`. */
export function rand(
  shape: readonly number[],
  rng: Rng,
  options?: TensorOptions & { low?: number; high?: number },
): Tensor {
  const t = make('rand', shape, options);
  rng.fillUniform(t._data, options?.low ?? 0, options?.high ?? 1);
  return t;
}

/**
 * A tensor from a (nested) array of numbers or a typed array. The shape is inferred from nesting unless
 * given; with an explicit shape, a flat array of the right length is reshaped. Data is copied.
 */
export function fromArray(
  values: number | NestedArray | readonly number[] | ArrayLike<number>,
  shape?: readonly number[],
  options?: TensorOptions,
): Tensor {
  if (typeof values === 'number') {
    if (shape !== undefined && shape.length > 0) return full(shape, values, options);
    return scalar(values, options);
  }
  const inferred: number[] = [];
  const flat: number[] = [];
  if (Array.isArray(values)) {
    let v: unknown = values;
    while (Array.isArray(v)) {
      inferred.push(v.length);
      v = v[0];
    }
    flatten(values, 0, inferred, flat);
  } else {
    inferred.push(values.length);
    for (let i = 0; i < values.length; i++) flat.push(values[i]);
  }
  const target = shape ?? inferred;
  checkShape('fromArray', target);
  if (shapeSize(target) !== flat.length) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'fromArray',
      `${flat.length} values do not fill shape ${formatShape(target)} (${shapeSize(target)} elements)`,
    );
  }
  const data = alloc('fromArray', flat.length, options?.dtype);
  for (let i = 0; i < flat.length; i++) data[i] = flat[i];
  return new Tensor(data, target.slice(), options?.requiresGrad ?? false);
}

function flatten(v: unknown, depth: number, shape: number[], out: number[]): void {
  if (depth === shape.length) {
    if (typeof v !== 'number') {
      throw new TensorError(
        'INVALID_ARGUMENT',
        'fromArray',
        `expected a number at depth ${depth}, got ${typeof v}`,
      );
    }
    out.push(v);
    return;
  }
  if (!Array.isArray(v) || v.length !== shape[depth]) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      'fromArray',
      `ragged nested array: expected ${shape[depth]} entries at depth ${depth} (shape ${formatShape(shape)})`,
    );
  }
  for (const e of v) flatten(e, depth + 1, shape, out);
}
