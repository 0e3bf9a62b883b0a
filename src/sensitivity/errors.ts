/** Errors thrown by odeint and the sensitivity methods. */

export type SensitivityErrorCode =
  | 'invalidFunction'
  | 'invalidInitialState'
  | 'invalidTimes'
  | 'invalidOption'
  | 'unknownOption'
  | 'unknownGradientMode'
  | 'optionNotForMode'
  | 'unsupportedMethod'
  | 'wrongOutputShape'
  | 'nonFiniteDerivative'
  | 'solveFailed';

/** A bad argument to odeint or a failure of its solves; `argument` names what was wrong. */
export class SensitivityError extends Error {
  readonly code: SensitivityErrorCode;
  readonly argument: string;

  constructor(code: SensitivityErrorCode, argument: string, message: string, options?: { cause?: unknown }) {
    super(`${argument}: ${message}`, options);
    this.name = 'SensitivityError';
    this.code = code;
    this.argument = argument;
  }
}
