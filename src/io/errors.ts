/**
 * Errors raised while reading or writing files. Each carries a machine-readable `code`, the file when there
 * is one, and the tensor the problem is about when there is one, so that a caller can tell a truncated
 * download from a model mismatch without parsing the message.
 */

/** Machine-readable reasons for an {@link IoError}. */
export type IoErrorCode =
  /** The file could not be read from disk. */
  | 'readFailed'
  /** The file is shorter than the 8-byte header length prefix. */
  | 'fileTooShort'
  /** The header length points past the end of the file, or exceeds the format's limit. */
  | 'headerOutOfRange'
  /** The header is not valid UTF-8 JSON. */
  | 'headerInvalidJson'
  /** The header is JSON but not a safetensors header (wrong structure, bad field, non-string metadata). */
  | 'headerInvalid'
  /** A tensor has a dtype the format does not define. */
  | 'unknownDtype'
  /** A tensor's shape is not a list of non-negative integers. */
  | 'invalidShape'
  /** A tensor's data_offsets are malformed or point outside the byte buffer. */
  | 'offsetsOutOfRange'
  /** Two tensors' byte ranges overlap. */
  | 'offsetsOverlap'
  /** Part of the byte buffer belongs to no tensor (a gap or trailing bytes). */
  | 'bufferNotCovered'
  /** shape × dtype size differs from the tensor's byte range. */
  | 'sizeMismatch'
  /** A value handed to the writer is invalid (duplicate name, wrong data type, bad metadata...). */
  | 'invalidEntry';

export class IoError extends Error {
  readonly code: IoErrorCode;
  /** The file the error is about, when there is one. */
  readonly path: string | undefined;
  /** The tensor the error is about, when there is one. */
  readonly tensor: string | undefined;

  constructor(code: IoErrorCode, message: string, details: { path?: string; tensor?: string } = {}) {
    super(details.path === undefined ? message : `${details.path}: ${message}`);
    this.name = 'IoError';
    this.code = code;
    this.path = details.path;
    this.tensor = details.tensor;
  }
}
