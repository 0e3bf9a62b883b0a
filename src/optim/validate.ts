/** Option validation shared by the optimizers and schedules. */
import { OptimError } from './errors.js';

/** Rejects keys of `options` outside `allowed`; a misspelt option must not be silently ignored. */
export function checkKeys(owner: string, options: object | undefined, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    throw new OptimError('invalidOption', `${owner}: options must be an object, got ${options}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new OptimError(
        'invalidOption',
        `${owner}: unknown option '${key}' (known: ${allowed.join(', ')})`,
      );
    }
  }
}

/** Checks that `value` is a finite number within the given range and returns it. */
export function requireNumber(
  owner: string,
  name: string,
  value: unknown,
  range: { min?: number; max?: number; maxExclusive?: number; integer?: boolean },
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new OptimError('invalidOption', `${owner}: ${name} must be a finite number, got ${String(value)}`);
  }
  if (range.integer === true && !Number.isInteger(value)) {
    throw new OptimError('invalidOption', `${owner}: ${name} must be an integer, got ${value}`);
  }
  if (range.min !== undefined && value < range.min) {
    throw new OptimError('invalidOption', `${owner}: ${name} must be >= ${range.min}, got ${value}`);
  }
  if (range.max !== undefined && value > range.max) {
    throw new OptimError('invalidOption', `${owner}: ${name} must be <= ${range.max}, got ${value}`);
  }
  if (range.maxExclusive !== undefined && value >= range.maxExclusive) {
    throw new OptimError('invalidOption', `${owner}: ${name} must be < ${range.maxExclusive}, got ${value}`);
  }
  return value;
}

export function requireBoolean(owner: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new OptimError('invalidOption', `${owner}: ${name} must be a boolean, got ${String(value)}`);
  }
  return value;
}
