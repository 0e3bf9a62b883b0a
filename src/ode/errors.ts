/**
 * Errors of the ODE layer. Input errors are thrown before any work is done and name the argument; solve
 * errors carry the failure code, the time reached and the partial result (nothing computed is lost).
 */

export type OdeInputErrorCode =
  | 'invalidTolerance'
  | 'invalidInitialState'
  | 'invalidTimeSpan'
  | 'invalidTEval'
  | 'invalidStopTimes'
  | 'unknownMethod'
  | 'missingStep'
  | 'invalidStep'
  | 'invalidEvent'
  | 'invalidOption'
  | 'unknownOption';

/** A bad argument to solveIvp or createIntegrator. */
export class OdeInputError extends Error {
  readonly code: OdeInputErrorCode;
  /** The argument or option at fault, e.g. `'rtol'`, `'y0'`, `'options.tEval'`. */
  readonly argument: string;

  constructor(code: OdeInputErrorCode, argument: string, message: string) {
    super(`${argument}: ${message}`);
    this.name = 'OdeInputError';
    this.code = code;
    this.argument = argument;
  }
}

/** Why a solve stopped before reaching t1. */
export type OdeFailureCode =
  | 'maxStepsReached'
  | 'stepSizeUnderflow'
  | 'nonFiniteDerivative'
  | 'singularMatrix'
  | 'newtonDiverged'
  | 'stiff';

/** What to do about each failure, appended to messages and carried by the status. */
export const FAILURE_REMEDIES: Readonly<Record<OdeFailureCode, string>> = Object.freeze({
  maxStepsReached:
    'raise options.maxSteps, loosen rtol/atol, or use a stiff method if the steps are tiny because of stiffness',
  stepSizeUnderflow:
    'check f for a singularity or discontinuity near this time (pass discontinuities as options.jumpTimes), or loosen the tolerances',
  nonFiniteDerivative:
    'f produced NaN or Infinity; check its domain (e.g. sqrt or log of negative values) or stop before the singularity with an event',
  singularMatrix: "the iteration matrix is singular; supply options.jacobian or try 'radau'",
  newtonDiverged: "Newton iterations fail to converge; supply an accurate options.jacobian or try 'radau'",
  stiff: "use a stiff method: method: 'bdf', 'radau', 'rodas' or 'auto'",
});

/** Sentence appended when the step-size history looks like stiffness. */
export const STIFF_HINT =
  "The problem looks stiff (steps limited by stability, not accuracy): try method 'bdf', 'radau', 'rodas' or 'auto'.";

/** A solve that stopped early. `result` is the partial solution up to `t`, with stats and status. */
export class OdeSolveError<R = unknown> extends Error {
  readonly code: OdeFailureCode;
  /** Time reached (in the caller's time). */
  readonly t: number;
  readonly result: R;

  constructor(code: OdeFailureCode, t: number, message: string, result: R) {
    super(message);
    this.name = 'OdeSolveError';
    this.code = code;
    this.t = t;
    // Not enumerable: the partial result can be large and would flood logs of the error object.
    Object.defineProperty(this, 'result', { value: result, enumerable: false });
    this.result = result;
  }
}
