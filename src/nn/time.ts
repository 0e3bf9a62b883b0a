/** Time inputs of time-dependent layers. */
import { TensorError } from '../tensor/errors.js';
import { full } from '../tensor/factories.js';
import { expand } from '../tensor/ops/reduce.js';
import { reshape } from '../tensor/ops/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { NnError } from './errors.js';

/**
 * The time argument of `forward(t, x)`: a number, or a one-element tensor when gradients with respect to t
 * are needed (e.g. by the adjoint method).
 */
export type TimeInput = number | Tensor;

/**
 * A tensor shaped like `x` except that axis `axis` has extent 1, filled with t (broadcast from a one-element
 * tensor, so that gradients flow back to t).
 */
export function timeFeature(op: string, t: TimeInput, x: Tensor, axis: number): Tensor {
  const shape = x.shape.slice();
  shape[axis] = 1;
  if (typeof t === 'number') {
    if (!Number.isFinite(t)) throw new NnError('invalidArgument', `${op}: t must be finite, got ${t}`);
    return full(shape, t, { dtype: x.dtype });
  }
  if (!(t instanceof Tensor) || t.size !== 1) {
    throw new NnError(
      'invalidArgument',
      `${op}: t must be a number or a one-element tensor, got ${t instanceof Tensor ? `shape [${t.shape.join(', ')}]` : typeof t}`,
    );
  }
  if (t.dtype !== x.dtype) {
    throw new TensorError('DTYPE_MISMATCH', op, `t is ${t.dtype} but x is ${x.dtype}`);
  }
  return expand(
    reshape(
      t,
      shape.map(() => 1),
    ),
    shape,
  );
}

/** t as a tensor of shape [1] (for layers that feed t through a Linear of input size 1). */
export function timeVector(op: string, t: TimeInput, like: Tensor): Tensor {
  if (typeof t === 'number') {
    if (!Number.isFinite(t)) throw new NnError('invalidArgument', `${op}: t must be finite, got ${t}`);
    return full([1], t, { dtype: like.dtype });
  }
  if (!(t instanceof Tensor) || t.size !== 1) {
    throw new NnError('invalidArgument', `${op}: t must be a number or a one-element tensor`);
  }
  return t.ndim === 1 ? t : reshape(t, [1]);
}
