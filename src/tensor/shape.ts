/** Shape helpers: sizes, broadcasting and axis normalisation. */
import { formatShape, TensorError } from './errors.js';

/** Number of elements of a tensor of the given shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** True when both shapes have the same rank and extents. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The NumPy broadcast of two shapes; throws NOT_BROADCASTABLE naming `op` and both shapes. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)];
    const db = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new TensorError(
        'NOT_BROADCASTABLE',
        op,
        `shapes ${formatShape(a)} and ${formatShape(b)} are not broadcastable (dimension ${i} of the result: ${da} vs ${db})`,
      );
    }
  }
  return out;
}

/** Normalises a possibly negative axis against rank `ndim`; throws INVALID_ARGUMENT when out of range. */
export function normalizeAxis(op: string, axis: number, ndim: number, shape: readonly number[]): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new TensorError(
      'INVALID_ARGUMENT',
      op,
      `axis ${axis} is out of range for a tensor of shape ${formatShape(shape)} (rank ${ndim})`,
    );
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Validates a user-supplied shape (non-negative integers). */
export function checkShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape)) {
    throw new TensorError(
      'INVALID_ARGUMENT',
      op,
      `shape must be an array of non-negative integers, got ${String(shape)}`,
    );
  }
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || d < 0) {
      throw new TensorError(
        'INVALID_ARGUMENT',
        op,
        `shape ${formatShape(shape)} has an invalid extent ${d} at dimension ${i}`,
      );
    }
  }
}

/** Product of shape[from..to). */
export function prodRange(shape: readonly number[], from: number, to: number): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i];
  return n;
}
