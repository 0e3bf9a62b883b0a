/**
 * The stepping layer: one solve advanced one accepted step at a time, in the caller's time. solveIvp is a
 * loop over {@link OdeIntegrator.step}; code that interleaves solving with other work (ODE-RNN encoders,
 * latent ODEs, event-driven simulations) drives an integrator directly with `step` or `advanceTo`.
 *
 * The integrator owns stop and jump times and the step budget; the stepper owns step sizes. A jump time is
 * landed on exactly and the method restarts there, but the restart is deferred to the next `step` call so the
 * interpolant of the step that landed stays valid for output and event location.
 */
import { FAILURE_REMEDIES, type OdeFailureCode, STIFF_HINT } from './errors.js';
import { freezeInterpolant } from './interpolants.js';
import {
  checkKnownKeys,
  type IntegratorOptions,
  type NormalizedProblem,
  normalizeProblem,
} from './options.js';
import type { Dynamics, Interpolant, MethodFactory, SolverStats, Stepper } from './types.js';

/** Keys of {@link IntegratorOptions} (unknown keys are rejected). */
export const INTEGRATOR_OPTION_KEYS = [
  'method',
  'rtol',
  'atol',
  'norm',
  'step',
  'firstStep',
  'maxStep',
  'maxSteps',
  'tstops',
  'jumpTimes',
  'controller',
  'jacobian',
] as const;

/** Outcome of one {@link OdeIntegrator.step}. */
export type IntegratorStepOutcome =
  | { readonly kind: 'accepted' }
  | {
      readonly kind: 'failed';
      readonly code: OdeFailureCode;
      /** Caller's time reached (the end of the last accepted step). */
      readonly t: number;
      readonly message: string;
      readonly remedy: string;
      readonly looksStiff: boolean;
    };

const ACCEPTED: IntegratorStepOutcome = Object.freeze({ kind: 'accepted' });

export class OdeIntegrator {
  readonly direction: 1 | -1;
  readonly t0: number;
  readonly t1: number;
  readonly n: number;
  readonly method: MethodFactory;
  readonly stats: SolverStats;
  private readonly stepper: Stepper;
  private readonly problem: NormalizedProblem;
  private stopIndex = 0;
  private restartPending = false;
  private failure: IntegratorStepOutcome | undefined;

  /** Use {@link createIntegrator}; this constructor takes an already normalised problem. */
  constructor(problem: NormalizedProblem) {
    this.problem = problem;
    this.direction = problem.direction;
    this.t0 = problem.t0;
    this.t1 = problem.t1;
    this.n = problem.n;
    this.method = problem.method;
    this.stats = problem.stats;
    this.stepper = problem.method.create(
      problem.f,
      problem.s0,
      problem.y0,
      problem.s1,
      problem.stepperOptions,
    );
  }

  /** Caller's time at the end of the last accepted step. */
  get t(): number {
    return this.direction * this.stepper.t;
  }
  /** Caller's time at the start of the last accepted step. */
  get tPrev(): number {
    return this.direction * this.stepper.tPrev;
  }
  /** Current state (owned by the solver, overwritten by the next step: copy to keep). */
  get y(): Float64Array {
    return this.stepper.y;
  }
  /** True once t1 has been reached. */
  get finished(): boolean {
    return this.stepper.t >= this.problem.s1;
  }
  /** The step-size history or the method's own test suggests stiffness. */
  get looksStiff(): boolean {
    if (this.stepper.looksStiff === true) return true;
    if (this.method.stiff) return false;
    // Many rejections while the mean step is a tiny fraction of the span: stability-limited stepping.
    const { naccept, nreject } = this.stats;
    const span = Math.abs(this.t1 - this.t0);
    const covered = Math.abs(this.t - this.t0);
    return naccept >= 200 && nreject > 0.1 * naccept && covered / naccept < 1e-3 * span;
  }
  /** The underlying stepper, in the increasing-time frame (s = direction·t). */
  get rawStepper(): Stepper {
    return this.stepper;
  }

  /** Advance by one accepted step (never beyond t1 or the next stop time). */
  step(): IntegratorStepOutcome {
    if (this.failure !== undefined) return this.failure;
    const { stepper, problem, stats } = this;
    if (this.finished) return ACCEPTED;
    if (this.restartPending) {
      stepper.restart(stepper.t, stepper.y);
      this.restartPending = false;
    }
    if (stats.naccept >= problem.maxSteps) {
      return this.fail(
        'maxStepsReached',
        `${stepper.method}: reached maxSteps = ${problem.maxSteps} accepted steps at t = ${this.t} before t1 = ${this.t1}`,
      );
    }
    const { stops } = problem;
    const tLimit = this.stopIndex < stops.length ? stops[this.stopIndex] : problem.s1;
    const towardJump = this.stopIndex < stops.length && problem.jumps[this.stopIndex] === 1;
    if (towardJump) problem.leftLimit.time = tLimit;
    const outcome = stepper.step(tLimit);
    problem.leftLimit.time = Number.NaN;
    if (outcome.kind === 'failed') return this.fail(outcome.code, outcome.message);
    if (stepper.t >= tLimit && this.stopIndex < stops.length) {
      if (problem.jumps[this.stopIndex] === 1) this.restartPending = true;
      this.stopIndex++;
    }
    return ACCEPTED;
  }

  private fail(code: OdeFailureCode, message: string): IntegratorStepOutcome {
    const looksStiff = code === 'stiff' || this.looksStiff;
    const remedy = FAILURE_REMEDIES[code];
    const full = `${message}. Remedy: ${remedy}.${looksStiff && code !== 'stiff' ? ` ${STIFF_HINT}` : ''}`;
    this.failure = Object.freeze({ kind: 'failed', code, t: this.t, message: full, remedy, looksStiff });
    return this.failure;
  }

  /** y at caller's time t within the last accepted step [tPrev, t]. */
  evaluate(t: number, out?: Float64Array): Float64Array {
    return this.stepper.interpolant().evaluate(this.direction * t, out ?? new Float64Array(this.n));
  }

  /** The last step's interpolant in the internal frame (s = direction·t), valid until the next step. */
  interpolant(): Interpolant {
    return this.stepper.interpolant();
  }

  /** A copy of the last step's interpolant (internal frame) that stays valid. */
  freezeStep(): Interpolant {
    return freezeInterpolant(this.stepper.interpolant(), this.n);
  }

  /**
   * Step until caller's time `t` is covered and return y(t) from dense output (no step lands on t unless it
   * is a stop time). Returns the failure outcome instead when the solve fails first.
   */
  advanceTo(t: number, out?: Float64Array): Float64Array | IntegratorStepOutcome {
    const s = this.direction * t;
    if (s < this.direction * this.tPrev || s > this.problem.s1) {
      throw new RangeError(
        `advanceTo: t = ${t} is behind the solver (t = ${this.tPrev}) or beyond t1 = ${this.t1}`,
      );
    }
    while (this.stepper.t < s) {
      const outcome = this.step();
      if (outcome.kind === 'failed') return outcome;
    }
    if (s === this.stepper.t) {
      const dest = out ?? new Float64Array(this.n);
      dest.set(this.stepper.y);
      return dest;
    }
    return this.evaluate(t, out);
  }

  /** Continue from a new state at caller's time t (after an event changed the state, for example). */
  restart(t: number, y: ArrayLike<number>): void {
    this.stepper.restart(this.direction * t, Float64Array.from(y));
    this.restartPending = false;
    this.failure = undefined;
    const s = this.direction * t;
    while (this.stopIndex < this.problem.stops.length && this.problem.stops[this.stopIndex] <= s)
      this.stopIndex++;
  }
}

/** Start a solve of y' = f(t, y), y(t0) = y0 on [t0, t1] (t1 < t0 allowed) to be advanced step by step. */
export function createIntegrator(
  f: Dynamics,
  tSpan: readonly [number, number],
  y0: ArrayLike<number>,
  options: IntegratorOptions = {},
): OdeIntegrator {
  checkKnownKeys(options, INTEGRATOR_OPTION_KEYS);
  return new OdeIntegrator(normalizeProblem(f, tSpan, y0, options, undefined));
}
