/**
 * Contracts shared by every ODE method in neuralode.
 *
 * Layering (see docs/architecture.md):
 *  - a {@link Stepper} owns one method's state and advances one *accepted* step at a time, choosing its own
 *    step size (explicit Runge–Kutta steppers delegate that choice to a {@link StepSizeController});
 *  - the driver (`solveIvp`) owns everything around the steps: input validation, time reversal, tstops and
 *    jump times, tEval output from dense output, events, maxSteps, stats and failure reporting.
 *
 * Below the driver, time always increases: a solve with t1 < t0 is run as the solve of
 * g(s, y) = −f(−s, y) on s ∈ [−t0, −t1], so steppers never see a negative direction.
 */

/** In-place dynamics: write dy/dt at (t, y) into `dydt`. Must not keep references to `y` or `dydt`. */
export type Dynamics = (t: number, y: Float64Array, dydt: Float64Array) => void;

/**
 * In-place Jacobian: write ∂f/∂y at (t, y) into `jac` as a dense row-major n×n matrix
 * (jac[i * n + j] = ∂f_i/∂y_j).
 */
export type JacobianFn = (t: number, y: Float64Array, jac: Float64Array) => void;

/**
 * A continuous extension of the solution over [t0, t1] (one step, or a stitched solution).
 * At a breakpoint shared by two pieces the later piece wins (right-continuous), matching SciPy's OdeSolution.
 */
export interface Interpolant {
  readonly t0: number;
  readonly t1: number;
  /** y(t) for t in [t0, t1]; writes into `out` when given (no allocation) and returns it. */
  evaluate(t: number, out?: Float64Array): Float64Array;
  /**
   * A standalone copy of this interpolant that stays valid after the stepper moves on (used to build the
   * stitched dense solution). Optional: when absent the driver samples `evaluate` at a few nodes instead,
   * which is accurate only to about the fourth order.
   */
  freeze?(): Interpolant;
}

/** Work counters. Always present in every result; implicit-method fields stay 0 for explicit methods. */
export interface SolverStats {
  /** Evaluations of the dynamics f (including those for finite-difference Jacobians). */
  nfe: number;
  /** Attempted steps (accepted + rejected). */
  nsteps: number;
  naccept: number;
  nreject: number;
  /** Jacobian evaluations (analytic or finite-difference). */
  njev: number;
  /** LU decompositions. */
  nlu: number;
  /** Method switches made by the `'auto'` method, in order (absent for other methods). */
  switches?: MethodSwitch[];
}

/**
 * One switch of the `'auto'` method: from time `t` on it continued with method `to`. `t` is in the stepper's
 * increasing-time frame (for a solve with t1 < t0 the caller's time is −t unless the driver maps it back).
 */
export interface MethodSwitch {
  readonly t: number;
  readonly to: string;
}

export function emptyStats(): SolverStats {
  return { nfe: 0, nsteps: 0, naccept: 0, nreject: 0, njev: 0, nlu: 0 };
}

/** Weighted error norm: `err` are local error estimates, `scale[i] = atol[i] + rtol[i]·max(|y_n|,|y_{n+1}|)`. */
export type ErrorNorm = (err: Float64Array, scale: Float64Array) => number;

/**
 * Step-size control for methods with an embedded error estimate, kept separate from the stepper (the stepper
 * asks, the controller answers). Factors multiply the step just tried. Implementations may keep a history of
 * error norms (PI/PID control); `reset` clears it after a restart.
 *
 * Step-size decisions are not differentiated: the step sequence is treated as a constant of the solve.
 */
export interface StepSizeController {
  /** Forget the error history (start of a solve, restart after a jump or event). */
  reset(): void;
  /**
   * Factor for the next step after accepting a step with error norm `errorNorm` (≤ 1) from an error
   * estimate of order `errorOrder` (the embedded method's order). `afterReject` is true when the accepted
   * step followed a rejection of the same step (growth is then usually capped at 1).
   */
  accept(errorNorm: number, errorOrder: number, afterReject: boolean): number;
  /** Factor (< 1) for retrying a step whose error norm `errorNorm` exceeded 1 (or was not finite). */
  reject(errorNorm: number, errorOrder: number): number;
}

/** Options a stepper receives from the driver, already validated and normalised. */
export interface StepperOptions {
  /** Per-component relative tolerance (length n). */
  readonly rtol: Float64Array;
  /** Per-component absolute tolerance (length n). */
  readonly atol: Float64Array;
  readonly norm: ErrorNorm;
  /** Initial step size, or undefined to choose it automatically (Hairer's algorithm). */
  readonly firstStep: number | undefined;
  /** Largest step size allowed (Infinity when unbounded). */
  readonly maxStep: number;
  /** Fixed step size for fixed-step methods (undefined: step between output/stop times). */
  readonly fixedStep: number | undefined;
  /** User Jacobian in the stepper's (increasing-time) frame, or undefined for finite differences. */
  readonly jacobian: JacobianFn | undefined;
  /** Shared counters; steppers increment nsteps/naccept/nreject/njev/nlu, the driver counts nfe. */
  readonly stats: SolverStats;
  /**
   * Step-size controller for adaptive explicit methods (the driver always provides one; steppers that choose
   * their own step sizes, such as the implicit methods, may ignore it).
   */
  readonly controller?: StepSizeController;
}

/** The outcome of one call to {@link Stepper.step}. */
export type StepOutcome =
  | { readonly kind: 'accepted' }
  | {
      readonly kind: 'failed';
      readonly code:
        | 'stepSizeUnderflow'
        | 'nonFiniteDerivative'
        | 'singularMatrix'
        | 'newtonDiverged'
        | 'stiff';
      readonly message: string;
    };

export interface Stepper {
  readonly method: string;
  /** Order of the propagated solution (used by error-per-tolerance tests and by the auto switcher). */
  readonly order: number;
  /** Current time (end of the last accepted step). */
  readonly t: number;
  /** Time at the start of the last accepted step. */
  readonly tPrev: number;
  /** Current state; owned by the stepper and overwritten by the next step: copy it to keep it. */
  readonly y: Float64Array;
  /**
   * Advance by one accepted step, never beyond `tLimit` (> t). When the natural step would pass `tLimit` or
   * land within a tiny fraction of it, the step ends exactly on `tLimit`.
   */
  step(tLimit: number): StepOutcome;
  /** Dense output over the last accepted step [tPrev, t]. Valid until the next call to `step`. */
  interpolant(): Interpolant;
  /**
   * Called by the driver after landing on a jump time (a discontinuity of f) or after an event changed the
   * state: discard derivative history (FSAL stage, multistep history, Jacobian) and restart from (t, y).
   */
  restart(t: number, y: Float64Array): void;
  /**
   * True once the method's own stiffness test has fired (e.g. Hairer's test on Dormand–Prince: h·|λ|
   * near the stability boundary for many consecutive steps). Used for failure messages; optional.
   */
  readonly looksStiff?: boolean;
}

/** How to build a stepper: the value behind each name accepted by `options.method`. */
export interface MethodFactory {
  readonly name: string;
  /** True for methods that need `step` (or output times) instead of tolerances. */
  readonly fixedStep: boolean;
  /** True for implicit/stiff methods that use Jacobians. */
  readonly stiff: boolean;
  create(f: Dynamics, t0: number, y0: Float64Array, tEnd: number, options: StepperOptions): Stepper;
}
