/** Errors raised for malformed figures and plot arguments; `code` tells the kind without parsing text. */

export type VizErrorCode = 'invalidFigure' | 'invalidArgument';

export class VizError extends Error {
  readonly code: VizErrorCode;

  constructor(code: VizErrorCode, message: string) {
    super(message);
    this.name = 'VizError';
    this.code = code;
  }
}
