/**
 * Dynamics that evaluate themselves and their vector–Jacobian product directly on flat Float64Arrays, without
 * building tensors or a tape per evaluation. A Module opts in by implementing {@link FlatDynamicsProvider};
 * odeint then uses these kernels for the forward solve and for every gradient mode, and the tensor path
 * (`forward` on tensors, differentiated by autograd) stays the definition they must agree with.
 */
import type { Tensor } from '../tensor/tensor.js';

/** In-place kernels of dy/dt = f(t, y) and its vector–Jacobian product for one state shape. */
export interface FlatDynamics {
  /**
   * The parameter tensors the kernels read (views into the model's flat parameter vector), in the order in
   * which their cotangents are laid out in `thetaBar`. Must be the module's `parameterTensors()`.
   */
  readonly parameters: readonly Tensor[];
  /** dydt = f(t, y). */
  evaluate(t: number, y: Float64Array, dydt: Float64Array): void;
  /**
   * Adds vᵀ∂f/∂y to `yBar` and vᵀ∂f/∂θ to `thetaBar` (when given), writes f(t, y) to `value` (when given)
   * and returns vᵀ∂f/∂t.
   */
  vjp(
    t: number,
    y: Float64Array,
    v: Float64Array,
    yBar: Float64Array,
    thetaBar: Float64Array | null,
    value: Float64Array | null,
  ): number;
  /**
   * Floats of intermediate values (e.g. hidden activations) that one evaluation leaves behind and that
   * {@link vjpSaved} can start from instead of evaluating f again; 0 (or absent) when not supported.
   */
  readonly savedSize?: number;
  /** Copies the intermediates of the last `evaluate` into `dest` from offset `at` (savedSize floats). */
  saveLast?(dest: Float64Array, at: number): void;
  /**
   * As `vjp` without `value`, from the intermediates that `saveLast` stored after `evaluate(t, y)` at the
   * same (t, y).
   */
  vjpSaved?(
    t: number,
    y: Float64Array,
    v: Float64Array,
    yBar: Float64Array,
    thetaBar: Float64Array | null,
    saved: Float64Array,
    at: number,
  ): number;
}

/** A Module that can provide {@link FlatDynamics} for a state shape (or null to use the tensor path). */
export interface FlatDynamicsProvider {
  flatDynamics(shape: readonly number[]): FlatDynamics | null;
}

export function hasFlatDynamics(value: unknown): value is FlatDynamicsProvider {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { flatDynamics?: unknown }).flatDynamics === 'function'
  );
}
