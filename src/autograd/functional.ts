/**
 * Functional autodiff in the style of JAX: `grad`, `valueAndGrad`, `vjp` and `hvp` transform functions of
 * tensors instead of mutating `.grad`.
 *
 * Inputs that do not require grad are replaced by fresh leaves sharing their storage. Inputs that already
 * require grad are used as they are, so that an enclosing differentiation sees through: `grad(grad(f))`
 * works, and so does differentiating `grad(f)(x)` with respect to parameters captured by `f`. Whether the
 * returned gradients are themselves differentiable (`createGraph`) defaults to "yes exactly when an input
 * already required grad, or a parameter of f does and grad mode is on" — see {@link FunctionalOptions}.
 */
import { TensorError } from '../tensor/errors.js';
import { mul } from '../tensor/ops/elementwise.js';
import { sum } from '../tensor/ops/reduce.js';
import { Tensor } from '../tensor/tensor.js';
import { gradients } from './engine.js';
import { gradMode } from './node.js';

/** Options of the functional transforms. */
export interface FunctionalOptions {
  /**
   * Record the gradient computation so its results can be differentiated again. Default: true when grad
   * mode is on and any input already requires grad (nested differentiation), false otherwise. Set it to
   * true to differentiate the result with respect to tensors captured by `f` (e.g. model parameters), as in
   * the gradient of a Jacobian trace.
   */
  readonly createGraph?: boolean;
}

/** One tensor per input of `f`. */
export type Gradients<A extends readonly Tensor[]> = { [K in keyof A]: Tensor };

function prepare(op: string, inputs: readonly Tensor[], options?: FunctionalOptions) {
  let anyTracked = false;
  const leaves: Tensor[] = new Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    if (!(x instanceof Tensor)) {
      throw new TensorError('INVALID_ARGUMENT', op, `argument ${i} must be a Tensor, got ${typeof x}`);
    }
    if (x.requiresGrad && gradMode.enabled) {
      anyTracked = true;
      leaves[i] = x;
    } else {
      leaves[i] = new Tensor(x.data, x.shape, true);
    }
  }
  const createGraph = options?.createGraph ?? anyTracked;
  return { leaves, createGraph };
}

function evaluate<A extends readonly Tensor[]>(
  op: string,
  f: (...args: A) => Tensor,
  leaves: Tensor[],
): Tensor {
  const prev = gradMode.enabled;
  gradMode.enabled = true;
  let out: Tensor;
  try {
    out = f(...(leaves as unknown as A));
  } finally {
    gradMode.enabled = prev;
  }
  if (!(out instanceof Tensor)) {
    throw new TensorError('INVALID_ARGUMENT', op, `the function must return a Tensor, got ${typeof out}`);
  }
  return out;
}

/**
 * The gradient of a scalar-valued `f` with respect to each of its tensor arguments.
 *
 * @example
 * const [gx] = grad((x: Tensor) => sum(square(x)))(x); // 2x
 */
export function grad<A extends readonly Tensor[]>(
  f: (...args: A) => Tensor,
  options?: FunctionalOptions,
): (...args: A) => Gradients<A> {
  const g = valueAndGrad(f, options);
  return (...args: A) => g(...args)[1];
}

/** Like {@link grad} but also returns the value: `[value, gradients]`. */
export function valueAndGrad<A extends readonly Tensor[]>(
  f: (...args: A) => Tensor,
  options?: FunctionalOptions,
): (...args: A) => [Tensor, Gradients<A>] {
  return (...args: A) => {
    const { leaves, createGraph } = prepare('grad', args, options);
    const out = evaluate('grad', f, leaves);
    if (out.size !== 1) {
      throw new TensorError(
        'NON_SCALAR_BACKWARD',
        'grad',
        `the function returned shape [${out.shape.join(',')}]; grad needs a one-element output (use vjp for others)`,
      );
    }
    const grads = gradients(out, leaves, null, { createGraph, retainGraph: createGraph });
    return [out, grads as unknown as Gradients<A>];
  };
}

/**
 * Evaluates `f` at `inputs` and returns its output with a pullback that maps an output cotangent (same shape
 * as the output) to one cotangent per input. The pullback may be called several times.
 */
export function vjp<A extends readonly Tensor[]>(
  f: (...args: A) => Tensor,
  ...inputs: A
): [Tensor, (cotangent: Tensor, options?: FunctionalOptions) => Gradients<A>] {
  const { leaves, createGraph } = prepare('vjp', inputs);
  const out = evaluate('vjp', f, leaves);
  const pullback = (cotangent: Tensor, options?: FunctionalOptions): Gradients<A> => {
    const cg = options?.createGraph ?? (createGraph || (cotangent.requiresGrad && gradMode.enabled));
    return gradients(out, leaves, cotangent, {
      createGraph: cg,
      retainGraph: true,
    }) as unknown as Gradients<A>;
  };
  return [out, pullback];
}

/**
 * Hessian–vector product of a scalar `f` at `x` along `v` (both same shape), by reverse-over-reverse:
 * ∇ₓ(∇f(x)·v).
 */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  const [out] = grad((z: Tensor) => {
    const [g] = grad(f, { createGraph: true })(z);
    return sum(mul(g, v));
  })(x);
  return out;
}
