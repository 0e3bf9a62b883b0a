/** Errors raised by optimizers, learning-rate schedules and gradient clipping. */

/** Machine-readable reasons for an {@link OptimError}. */
export type OptimErrorCode =
  /** An option is missing, unknown, or out of its range. */
  | 'invalidOption'
  /** theta, grad and the optimizer disagree in length. */
  | 'sizeMismatch'
  /** The gradient contains NaN or ±Infinity; nothing was updated. */
  | 'nonFiniteGradient'
  /** A state given to `loadStateDict` is malformed or belongs to another optimizer or size. */
  | 'invalidState';

export class OptimError extends Error {
  readonly code: OptimErrorCode;

  constructor(code: OptimErrorCode, message: string) {
    super(message);
    this.name = 'OptimError';
    this.code = code;
  }
}
