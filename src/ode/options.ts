/**
 * Options of solveIvp/createIntegrator and their single normaliser. Everything is validated here, before any
 * evaluation of f; below this point the solver sees a flat Float64Array state and increasing time
 * (a backward solve runs s = −t with g(s, y) = −f(−s, y)).
 */
import { PidController } from './controller.js';
import { OdeInputError } from './errors.js';
import { type MethodName, resolveMethod } from './methods.js';
import { rmsNorm } from './norms.js';
import type {
  Dynamics,
  ErrorNorm,
  JacobianFn,
  MethodFactory,
  SolverStats,
  StepperOptions,
  StepSizeController,
} from './types.js';
import { emptyStats } from './types.js';

/** Options shared by solveIvp and the stepping layer (createIntegrator). */
export interface IntegratorOptions {
  /** Method name or factory. Default `'dopri5'`. */
  readonly method?: MethodName | MethodFactory;
  /** Relative tolerance, scalar or per component (> 0). Default 1e-3 (as SciPy). */
  readonly rtol?: number | ArrayLike<number>;
  /** Absolute tolerance, scalar or per component (> 0). Default 1e-6 (as SciPy). */
  readonly atol?: number | ArrayLike<number>;
  /** Error norm of err/scale. Default RMS ({@link rmsNorm}). */
  readonly norm?: ErrorNorm;
  /**
   * Constant step size. Required by fixed-step methods unless `tEval` is given (they then step from output
   * time to output time); with an adaptive method it turns error control off.
   */
  readonly step?: number;
  /** Initial step size (default: Hairer's automatic choice). */
  readonly firstStep?: number;
  /** Largest step size (default unbounded). */
  readonly maxStep?: number;
  /** Largest number of accepted steps before the solve fails with `maxStepsReached`. Default 100 000. */
  readonly maxSteps?: number;
  /** Times the solver must step to exactly (e.g. kinks of f). */
  readonly tstops?: ArrayLike<number>;
  /** Discontinuities of f: stepped to exactly, and the method restarts there (FSAL/history discarded). */
  readonly jumpTimes?: ArrayLike<number>;
  /**
   * Step-size controller for adaptive explicit methods. Default `new PidController()` (SciPy's I control).
   * A controller keeps per-solve history: give each concurrent solve its own instance.
   */
  readonly controller?: StepSizeController;
  /** Analytic Jacobian for implicit methods (caller's time). */
  readonly jacobian?: JacobianFn;
}

/** A validated problem in the solver's increasing-time frame. */
export interface NormalizedProblem {
  readonly direction: 1 | -1;
  /** Caller's t0 and t1. */
  readonly t0: number;
  readonly t1: number;
  /** Internal start and end (direction·t0, direction·t1). */
  readonly s0: number;
  readonly s1: number;
  readonly y0: Float64Array;
  readonly n: number;
  /** Counted (and for backward solves, reflected) dynamics. */
  readonly f: Dynamics;
  readonly method: MethodFactory;
  readonly maxSteps: number;
  /** Internal stop times strictly inside (s0, s1), increasing, with a jump flag each. */
  readonly stops: Float64Array;
  readonly jumps: Uint8Array;
  readonly stepperOptions: StepperOptions;
  readonly stats: SolverStats;
  /**
   * While a step is heading for a jump time, f at exactly that (internal) time is evaluated just before it,
   * so the step sees f from the left of the discontinuity (torchdiffeq's "perturb"). NaN when inactive.
   */
  readonly leftLimit: { time: number };
}

const EPS = 2.220446049250313e-16;

export function inputError(
  code: ConstructorParameters<typeof OdeInputError>[0],
  argument: string,
  message: string,
): never {
  throw new OdeInputError(code, argument, message);
}

/** Reject option keys that are not known (typos must not be silently ignored). */
export function checkKnownKeys(options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      inputError('unknownOption', `options.${key}`, `unknown option; known options: ${known.join(', ')}`);
    }
  }
}

export function toFloat64(name: string, value: ArrayLike<number>): Float64Array {
  if (value === null || typeof value !== 'object' || typeof value.length !== 'number') {
    inputError('invalidOption', name, `expected an array of numbers, got ${typeof value}`);
  }
  const out = Float64Array.from(value);
  return out;
}

function tolerance(
  name: 'rtol' | 'atol',
  value: number | ArrayLike<number> | undefined,
  n: number,
  fallback: number,
) {
  const arg = `options.${name}`;
  if (value === undefined) return new Float64Array(n).fill(fallback);
  const values = typeof value === 'number' ? new Float64Array(n).fill(value) : toFloat64(arg, value);
  if (typeof value !== 'number' && values.length !== n) {
    inputError('invalidTolerance', arg, `has ${values.length} entries but the state has ${n} components`);
  }
  const checked = typeof value === 'number' ? [value] : values;
  for (let i = 0; i < checked.length; i++) {
    const v = checked[i];
    const where = typeof value === 'number' ? '' : `[${i}]`;
    if (!(v > 0) || !Number.isFinite(v)) {
      inputError(
        'invalidTolerance',
        `${arg}${where}`,
        `must be a finite number > 0, got ${v}${name === 'atol' ? ' (for pure relative control use a tiny atol such as 1e-12)' : ''}`,
      );
    }
    if (name === 'rtol' && v < 100 * EPS) {
      inputError(
        'invalidTolerance',
        `${arg}${where}`,
        `${v} is below 100·eps = ${100 * EPS}, which float64 cannot meet`,
      );
    }
  }
  return values;
}

function positiveOption(name: string, value: number | undefined, allowInfinity: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0) || (!allowInfinity && !Number.isFinite(value))) {
    inputError(
      name === 'options.step' ? 'invalidStep' : 'invalidOption',
      name,
      `must be a positive number, got ${value}`,
    );
  }
  return value;
}

/** Validate t-span and y0 (shared by every entry point). */
export function checkSpanAndState(
  tSpan: readonly [number, number] | ArrayLike<number>,
  y0: ArrayLike<number>,
): { t0: number; t1: number; y0: Float64Array } {
  if (tSpan === null || typeof tSpan !== 'object' || tSpan.length !== 2) {
    inputError('invalidTimeSpan', 'tSpan', 'expected [t0, t1]');
  }
  const t0 = tSpan[0];
  const t1 = tSpan[1];
  if (typeof t0 !== 'number' || typeof t1 !== 'number' || !Number.isFinite(t0) || !Number.isFinite(t1)) {
    inputError('invalidTimeSpan', 'tSpan', `t0 and t1 must be finite numbers, got [${t0}, ${t1}]`);
  }
  if (y0 === null || typeof y0 !== 'object' || typeof y0.length !== 'number') {
    inputError('invalidInitialState', 'y0', 'expected a Float64Array or an array of numbers');
  }
  const y = Float64Array.from(y0);
  if (y.length === 0) {
    inputError(
      'invalidInitialState',
      'y0',
      'is empty: there is no state to integrate (give at least one component)',
    );
  }
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) inputError('invalidInitialState', `y0[${i}]`, `must be finite, got ${y0[i]}`);
  }
  return { t0, t1, y0: y };
}

/**
 * Times strictly inside the span, mapped to the internal frame and sorted. Times outside the closed span are
 * an error (they would silently never be honoured).
 */
function internalTimes(
  name: string,
  times: ArrayLike<number> | undefined,
  t0: number,
  t1: number,
  direction: 1 | -1,
) {
  if (times === undefined) return [];
  const values = toFloat64(name, times);
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const s = direction * values[i];
    if (!Number.isFinite(s) || s < direction * t0 || s > direction * t1) {
      inputError(
        'invalidStopTimes',
        `${name}[${i}]`,
        `${values[i]} lies outside the time span [${t0}, ${t1}]`,
      );
    }
    if (s > direction * t0 && s < direction * t1) out.push(s);
  }
  return out;
}

/**
 * Normalise the options common to solveIvp and createIntegrator. `extraStops` (internal frame) are added to
 * the stop times (used for fixed-step methods stepping between output times).
 */
export function normalizeProblem(
  f: Dynamics,
  tSpan: readonly [number, number] | ArrayLike<number>,
  y0In: ArrayLike<number>,
  options: IntegratorOptions,
  outputTimes: Float64Array | undefined,
): NormalizedProblem {
  if (typeof f !== 'function')
    inputError('invalidOption', 'f', 'the dynamics must be a function (t, y, dydt) => void');
  const { t0, t1, y0 } = checkSpanAndState(tSpan, y0In);
  const direction: 1 | -1 = t1 < t0 ? -1 : 1;
  const n = y0.length;
  const method = resolveMethod(options.method);
  const rtol = tolerance('rtol', options.rtol, n, 1e-3);
  const atol = tolerance('atol', options.atol, n, 1e-6);
  const fixedStep = positiveOption('options.step', options.step, false);
  const firstStep = positiveOption('options.firstStep', options.firstStep, false);
  const maxStep = positiveOption('options.maxStep', options.maxStep, true) ?? Number.POSITIVE_INFINITY;
  const maxSteps = options.maxSteps ?? 100_000;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) {
    inputError('invalidOption', 'options.maxSteps', `must be a positive integer, got ${options.maxSteps}`);
  }
  if (options.norm !== undefined && typeof options.norm !== 'function') {
    inputError('invalidOption', 'options.norm', 'must be a function (err, scale) => number');
  }
  const stepsBetweenOutputs = method.fixedStep && fixedStep === undefined;
  if (stepsBetweenOutputs && (outputTimes === undefined || outputTimes.length === 0) && t0 !== t1) {
    inputError(
      'missingStep',
      'options.step',
      `method '${method.name}' takes fixed steps: give options.step (e.g. step: ${((Math.abs(t1 - t0) || 1) / 100).toPrecision(2)}) or options.tEval to step between output times`,
    );
  }
  const stopList = internalTimes('options.tstops', options.tstops, t0, t1, direction).map((s) => [s, 0]);
  const jumpList = internalTimes('options.jumpTimes', options.jumpTimes, t0, t1, direction).map((s) => [
    s,
    1,
  ]);
  const extra =
    stepsBetweenOutputs && outputTimes !== undefined ? Array.from(outputTimes, (s) => [s, 0]) : [];
  const all = [...stopList, ...jumpList, ...extra]
    .filter(([s]) => s > direction * t0 && s < direction * t1)
    .sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: number[][] = [];
  for (const entry of all) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last[0] === entry[0]) last[1] = Math.max(last[1], entry[1]);
    else merged.push([...entry]);
  }
  const stats = emptyStats();
  const userF = f;
  const leftLimit = { time: Number.NaN };
  const counted: Dynamics =
    direction === 1
      ? (t, y, dydt) => {
          stats.nfe++;
          userF(t === leftLimit.time ? justBefore(t) : t, y, dydt);
        }
      : (s, y, dydt) => {
          stats.nfe++;
          userF(-(s === leftLimit.time ? justBefore(s) : s), y, dydt);
          for (let i = 0; i < dydt.length; i++) dydt[i] = -dydt[i];
        };
  const userJac = options.jacobian;
  if (userJac !== undefined && typeof userJac !== 'function') {
    inputError('invalidOption', 'options.jacobian', 'must be a function (t, y, jac) => void');
  }
  const jacobian: JacobianFn | undefined =
    userJac === undefined || direction === 1
      ? userJac
      : (s, y, jac) => {
          userJac(-s, y, jac);
          for (let i = 0; i < jac.length; i++) jac[i] = -jac[i];
        };
  const stepperOptions: StepperOptions = {
    rtol,
    atol,
    norm: options.norm ?? rmsNorm,
    firstStep,
    maxStep,
    fixedStep,
    jacobian,
    stats,
    controller: options.controller ?? new PidController(),
  };
  return {
    direction,
    t0,
    t1,
    s0: direction * t0,
    s1: direction * t1,
    y0,
    n,
    f: counted,
    method,
    maxSteps,
    stops: Float64Array.from(merged, (e) => e[0]),
    jumps: Uint8Array.from(merged, (e) => e[1]),
    stepperOptions,
    stats,
    leftLimit,
  };
}

/** A float a few ulps below s. */
function justBefore(s: number): number {
  return s - Math.max(Math.abs(s) * EPS, Number.MIN_VALUE);
}
