/** Errors raised by layers, models and parameter files. */

/** Machine-readable reasons for an {@link NnError}. */
export type NnErrorCode =
  /** A constructor or forward argument is invalid (a size, an option, an input shape). */
  | 'invalidArgument'
  /** The flat parameter vector was asked for before `finalize()`. */
  | 'notFinalized'
  /** The module is part of a finalized parent; finalizing it on its own would detach it from the parent. */
  | 'alreadyBound'
  /** The same module instance appears twice in a tree. */
  | 'sharedModule'
  /** Two parameters or children of one module have the same name. */
  | 'duplicateName'
  /** A parameter file lacks a parameter of the model. */
  | 'missingParameter'
  /** A parameter file has a tensor the model does not have. */
  | 'unexpectedParameter'
  /** A parameter file's tensor has another shape than the model's parameter. */
  | 'shapeMismatch'
  /** A parameter file's tensor has a dtype that cannot be loaded (only F64 and F32 can). */
  | 'dtypeMismatch';

export class NnError extends Error {
  readonly code: NnErrorCode;
  /** The dotted parameter name the error is about, when there is one. */
  readonly parameter: string | undefined;

  constructor(code: NnErrorCode, message: string, parameter?: string) {
    super(message);
    this.name = 'NnError';
    this.code = code;
    this.parameter = parameter;
  }
}
