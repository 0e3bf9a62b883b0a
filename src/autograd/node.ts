/**
 * The recorded graph: one {@link Node} per differentiable operation output, plus the global grad mode.
 *
 * A node stores the operation name (for error messages), its vector–Jacobian product function, its inputs,
 * at most one saved tensor and one opaque auxiliary value. VJP functions are module-level functions, not
 * per-call closures, so recording an operation allocates exactly one Node and one small inputs array.
 *
 * VJPs are written with the public differentiable operations. When the backward pass runs with
 * `createGraph: true`, grad mode is on and those operations record their own nodes, so the gradient is itself
 * differentiable (grad-of-grad, Hessian–vector products, gradients of Jacobian traces). When `createGraph` is
 * false the same code runs with grad mode off: operations then skip recording, and several hot VJPs (linear,
 * matmul, tanh, sigmoid, ...) branch to fused raw kernels.
 */
import type { Tensor } from '../tensor/tensor.js';

/** A vector–Jacobian product: given the output cotangent `g`, returns one cotangent per input (or null). */
export type VjpFunction = (node: Node, g: Tensor) => (Tensor | null)[];

/** A recorded operation in the autodiff graph. */
export class Node {
  /** Set after a backward pass without `retainGraph`; a later backward through this node throws. */
  released = false;

  constructor(
    /** Operation name, used in error messages. */
    readonly op: string,
    readonly vjp: VjpFunction,
    readonly inputs: Tensor[],
    /** The output tensor this node produced. */
    readonly output: Tensor,
    /** One tensor saved for the backward pass (op-specific), or null. */
    public saved: Tensor | null,
    /** Op-specific auxiliary data (axes, geometry, indices), or null. */
    public aux: unknown,
  ) {}
}

/**
 * Global grad-mode state. `enabled` is read through {@link isGradEnabled} and changed by {@link noGrad} and
 * {@link enableGrad}. `intoLeaves` is true only while the engine runs a plain `backward()` (no `createGraph`,
 * gradients going to `.grad`): VJPs may then add a leaf's cotangent straight into its `gradBuffer` (see
 * `directGradBuffer` in tensor.ts) instead of returning it, saving one temporary and one pass per parameter.
 */
export const gradMode = { enabled: true, intoLeaves: false };

/** Whether operations currently record the graph. */
export function isGradEnabled(): boolean {
  return gradMode.enabled;
}

/**
 * Runs `fn` with graph recording switched off (inference, optimizer updates, solver internals) and restores
 * the previous mode afterwards, also on exceptions.
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradMode.enabled;
  gradMode.enabled = false;
  try {
    return fn();
  } finally {
    gradMode.enabled = prev;
  }
}

/** Runs `fn` with graph recording switched on (e.g. inside a {@link noGrad} scope). */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradMode.enabled;
  gradMode.enabled = true;
  try {
    return fn();
  } finally {
    gradMode.enabled = prev;
  }
}

/** Attaches a node to `out` and marks it as requiring grad. Returns `out`. */
export function record(
  out: Tensor,
  op: string,
  vjp: VjpFunction,
  inputs: Tensor[],
  saved: Tensor | null,
  aux: unknown,
): Tensor {
  out.node = new Node(op, vjp, inputs, out, saved, aux);
  out.requiresGrad = true;
  return out;
}
