/**
 * Errors raised by run directories, checkpoints and the training loop. Every error carries a string `code` so
 * callers (and the CLI) can react to the kind of failure without parsing messages, and a message that names
 * the file and the problem.
 */

export type RunErrorCode =
  | 'checkpointNotFound'
  | 'checkpointCorrupt'
  | 'checkpointConfigMismatch'
  | 'runDirectoryInvalid'
  | 'invalidExperiment'
  | 'invalidArgument';

export class RunError extends Error {
  readonly code: RunErrorCode;
  /** The file or directory the error is about, when there is one. */
  readonly path: string | undefined;

  constructor(code: RunErrorCode, message: string, path?: string) {
    super(message);
    this.name = 'RunError';
    this.code = code;
    this.path = path;
  }
}
