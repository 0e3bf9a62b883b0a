/**
 * solveIvp: integrate y' = f(t, y), y(t0) = y0 over [t0, t1] (forward or backward) and return a plain value
 * with output times and states, stats, a status, event records and (optionally) the dense solution.
 *
 * Output: without `tEval`, every accepted step is reported (as SciPy's solve_ivp); with `tEval`, the states at
 * those times are read from each step's continuous extension (Hermite for methods without one), so output
 * times never shorten steps. Fixed-step methods without `step` are the exception: they step from output time
 * to output time.
 *
 * Failures: by default (`throwOnFailure: true`) a solve that cannot reach t1 throws an {@link OdeSolveError}
 * whose `result` holds everything computed so far; numerics never fail silently. With
 * `throwOnFailure: false` the same result is returned with `success: false` and a failure status. Input
 * errors always throw {@link OdeInputError} before f is evaluated.
 */
import { OdeSolveError } from './errors.js';
import { checkEvents, EventTracker, type OdeEvent } from './events.js';
import { INTEGRATOR_OPTION_KEYS, type IntegratorStepOutcome, OdeIntegrator } from './integrator.js';
import { type DenseSolution, stitchDenseSolution } from './interpolants.js';
import {
  checkKnownKeys,
  type IntegratorOptions,
  inputError,
  normalizeProblem,
  toFloat64,
} from './options.js';
import type { Dynamics, Interpolant, SolverStats } from './types.js';

export interface SolveIvpOptions extends IntegratorOptions {
  /** Times at which to report the solution (monotone in the direction of integration, inside [t0, t1]). */
  readonly tEval?: ArrayLike<number>;
  /** Keep every step's interpolant and return `sol(t)`. Default false. */
  readonly denseOutput?: boolean;
  /** Event functions located by root finding on the dense output. */
  readonly events?: readonly OdeEvent[];
  /** Called after every accepted step with the caller's time and the state (owned by the solver). */
  readonly onStep?: (t: number, y: Float64Array, stats: Readonly<SolverStats>) => void;
  /** Throw an OdeSolveError when the solve fails (default true); false returns the failed result. */
  readonly throwOnFailure?: boolean;
}

/** Outcome of a solve. Failure kinds carry the time reached and what to do about it. */
export type SolveStatus =
  | { readonly kind: 'success' }
  | { readonly kind: 'terminalEvent'; readonly event: number; readonly t: number }
  | {
      readonly kind: Exclude<IntegratorStepOutcome, { kind: 'accepted' }>['code'];
      readonly t: number;
      readonly remedy: string;
      readonly looksStiff: boolean;
    };

export interface OdeResult {
  /** Output times (caller's time). */
  readonly t: number[];
  /** States at the output times, one Float64Array each. */
  readonly y: Float64Array[];
  readonly stats: SolverStats;
  readonly status: SolveStatus;
  readonly message: string;
  /** True when t1 or a terminal event was reached. */
  readonly success: boolean;
  /** Times of each event's occurrences (one list per event). */
  readonly tEvents: number[][];
  /** States at each event's occurrences. */
  readonly yEvents: Float64Array[][];
  /** Method actually used. */
  readonly method: string;
  /** Dense solution over the solved interval, when `denseOutput: true`. */
  readonly sol: DenseSolution | undefined;
}

const SOLVE_OPTION_KEYS = [
  ...INTEGRATOR_OPTION_KEYS,
  'tEval',
  'denseOutput',
  'events',
  'onStep',
  'throwOnFailure',
];

/** Output times in the internal frame; must lie in the span and be monotone along the integration. */
function internalOutputTimes(
  tEval: ArrayLike<number> | undefined,
  t0: number,
  t1: number,
): Float64Array | undefined {
  if (tEval === undefined) return undefined;
  const values = toFloat64('options.tEval', tEval);
  const direction = t1 < t0 ? -1 : 1;
  const lo = Math.min(t0, t1);
  const hi = Math.max(t0, t1);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= lo && v <= hi)) {
      inputError('invalidTEval', `options.tEval[${i}]`, `${v} lies outside the time span [${t0}, ${t1}]`);
    }
    out[i] = direction * v;
    if (i > 0 && out[i] < out[i - 1]) {
      inputError(
        'invalidTEval',
        `options.tEval[${i}]`,
        `tEval must be ${direction === 1 ? 'increasing' : 'decreasing'} (the direction of integration); ${values[i - 1]} is followed by ${v}`,
      );
    }
  }
  return out;
}

/**
 * Solve y' = f(t, y) on [t0, t1] from y(t0) = y0. `f(t, y, dydt)` writes the derivative into `dydt`.
 *
 * @example
 * const r = solveIvp((t, y, d) => { d[0] = -y[0]; }, [0, 1], [1], { rtol: 1e-8, atol: 1e-10 });
 * r.y[r.y.length - 1][0]; // ≈ Math.exp(-1)
 */
export function solveIvp(
  f: Dynamics,
  tSpan: readonly [number, number],
  y0: ArrayLike<number>,
  options: SolveIvpOptions = {},
): OdeResult {
  if (options === null || typeof options !== 'object')
    inputError('invalidOption', 'options', 'must be an object');
  checkKnownKeys(options, SOLVE_OPTION_KEYS);
  const t0In =
    Array.isArray(tSpan) || ArrayBuffer.isView(tSpan) ? (tSpan as ArrayLike<number>)[0] : Number.NaN;
  const t1In =
    Array.isArray(tSpan) || ArrayBuffer.isView(tSpan) ? (tSpan as ArrayLike<number>)[1] : Number.NaN;
  const outTimes =
    Number.isFinite(t0In) && Number.isFinite(t1In)
      ? internalOutputTimes(options.tEval, t0In, t1In)
      : undefined;
  const problem = normalizeProblem(f, tSpan, y0, options, outTimes);
  const events = checkEvents(options.events);
  const { direction, n, t0, t1 } = problem;
  const integrator = new OdeIntegrator(problem);
  const tracker = new EventTracker(events, n);
  const denseWanted = options.denseOutput === true;
  const pieces: Interpolant[] = [];
  const ts: number[] = [];
  const ys: Float64Array[] = [];
  let evalIndex = 0;
  // Output times at the initial point.
  if (outTimes === undefined) {
    ts.push(t0);
    ys.push(Float64Array.from(problem.y0));
  } else {
    while (evalIndex < outTimes.length && outTimes[evalIndex] <= problem.s0) {
      ts.push(direction * outTimes[evalIndex++]);
      ys.push(Float64Array.from(problem.y0));
    }
  }
  if (tracker.active) tracker.start(t0, problem.y0);
  const interp = (t: number, out: Float64Array) => integrator.evaluate(t, out);
  let failure: Exclude<IntegratorStepOutcome, { kind: 'accepted' }> | undefined;
  let terminal = -1;
  let tEnd = t1;
  const onStep = options.onStep;
  while (!integrator.finished) {
    const outcome = integrator.step();
    if (outcome.kind === 'failed') {
      failure = outcome;
      break;
    }
    const t = integrator.t;
    const y = integrator.y;
    let sEnd = direction * t;
    if (tracker.active) {
      terminal = tracker.check(integrator.tPrev, t, y, interp);
      if (terminal >= 0) {
        tEnd = tracker.lastTime(terminal);
        sEnd = direction * tEnd;
      }
    }
    if (outTimes === undefined) {
      ts.push(terminal >= 0 ? tEnd : t);
      ys.push(terminal >= 0 ? Float64Array.from(tracker.lastState(terminal)) : Float64Array.from(y));
    } else {
      const sNow = direction * t;
      while (evalIndex < outTimes.length && outTimes[evalIndex] <= sEnd) {
        const s = outTimes[evalIndex++];
        ts.push(direction * s);
        ys.push(s === sNow ? Float64Array.from(y) : integrator.evaluate(direction * s));
      }
    }
    if (denseWanted) pieces.push(integrator.freezeStep());
    if (onStep !== undefined) onStep(t, y, problem.stats);
    if (terminal >= 0) break;
  }
  const tReached = failure !== undefined ? failure.t : terminal >= 0 ? tEnd : integrator.t;
  const status: SolveStatus =
    failure !== undefined
      ? { kind: failure.code, t: failure.t, remedy: failure.remedy, looksStiff: failure.looksStiff }
      : terminal >= 0
        ? { kind: 'terminalEvent', event: terminal, t: tEnd }
        : { kind: 'success' };
  const message =
    failure !== undefined
      ? failure.message
      : terminal >= 0
        ? `A terminal event (options.events[${terminal}]) occurred at t = ${tEnd}.`
        : 'The solver successfully reached the end of the integration interval.';
  const stats = problem.stats;
  // Method switches of 'auto' are recorded in the solver's frame; report them in the caller's time.
  const callerStats =
    direction === -1 && stats.switches !== undefined
      ? { ...stats, switches: stats.switches.map((s) => ({ t: -s.t, to: s.to })) }
      : stats;
  const result: OdeResult = {
    t: ts,
    y: ys,
    stats: callerStats,
    status,
    message,
    success: failure === undefined,
    tEvents: tracker.tEvents,
    yEvents: tracker.yEvents,
    method: problem.method.name,
    sol: denseWanted ? stitchDenseSolution(pieces, direction, t0, tReached, n, problem.y0) : undefined,
  };
  if (failure !== undefined && options.throwOnFailure !== false) {
    throw new OdeSolveError(failure.code, failure.t, failure.message, result);
  }
  return result;
}
