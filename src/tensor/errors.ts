/**
 * Errors thrown by the tensor core and autodiff. Every error names the operation and the shapes involved and
 * carries a machine-readable `code`.
 */

/** Machine-readable reasons for a {@link TensorError}. */
export type TensorErrorCode =
  | 'SHAPE_MISMATCH'
  | 'NOT_BROADCASTABLE'
  | 'DTYPE_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'INVALID_LABEL'
  | 'INDEX_OUT_OF_RANGE'
  | 'NON_SCALAR_BACKWARD'
  | 'GRAPH_RELEASED'
  | 'NOT_DIFFERENTIABLE';

/** An error raised by a tensor operation or by the autodiff engine. */
export class TensorError extends Error {
  /** Machine-readable reason. */
  readonly code: TensorErrorCode;
  /** The operation that failed (e.g. `matmul`, `backward`). */
  readonly op: string;

  constructor(code: TensorErrorCode, op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'TensorError';
    this.code = code;
    this.op = op;
  }
}

/** Formats a shape as `[2,3,4]` for error messages (only called when throwing). */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
