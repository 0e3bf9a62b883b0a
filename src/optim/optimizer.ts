/**
 * The optimizer contract and the code all optimizers share.
 *
 * Optimizers work on the model's FLAT parameter vector and its flat gradient (both Float64Array of the same
 * length), updating the parameters in place. This is what makes them independent of layers: a model, an
 * adjoint solve and a checkpoint all see θ as one vector.
 *
 * State and resumption. `stateDict()` returns plain JSON: the step count, the hyperparameters (for reference)
 * and each internal buffer as base64 of its little-endian float64 bytes (see {@link encodeFloat64Base64}),
 * which is bit-exact for every value, NaN and −0 included. `loadStateDict()` validates the kind, the size and
 * every buffer before it changes anything. Hyperparameters are taken from the constructor, not from the state,
 * so a run can be resumed with, say, a smaller learning rate; the learning-rate schedule is a pure function of
 * the restored step count.
 */
import { OptimError } from './errors.js';
import type { LearningRateSchedule } from './schedules.js';
import { decodeFloat64Base64, encodeFloat64Base64 } from './state-encoding.js';
import { requireNumber } from './validate.js';

export type OptimizerKind = 'sgd' | 'rmsprop' | 'adam' | 'adamw';

export const OPTIMIZER_STATE_FORMAT = 'neuralode-optimizer';
export const OPTIMIZER_STATE_VERSION = 1;

/** The JSON-serialisable state of an optimizer. */
export interface OptimizerState {
  readonly format: typeof OPTIMIZER_STATE_FORMAT;
  readonly version: typeof OPTIMIZER_STATE_VERSION;
  readonly kind: OptimizerKind;
  /** Length of the parameter vector. */
  readonly size: number;
  /** Number of steps taken. */
  readonly step: number;
  /** Hyperparameters at the time of saving (informational; the constructor's options are used on load). */
  readonly options: Readonly<Record<string, number | boolean | string>>;
  /** Internal buffers, each the base64 of `size` little-endian float64 values. */
  readonly buffers: Readonly<Record<string, string>>;
}

/** A learning rate: a constant or a schedule consulted before every step. */
export type LearningRate = number | LearningRateSchedule;

export interface Optimizer {
  readonly kind: OptimizerKind;
  /** Length of the parameter vector this optimizer updates. */
  readonly size: number;
  /** Number of steps taken so far (restored by `loadStateDict`). */
  readonly stepCount: number;
  /** The learning rate the next step will use. */
  learningRate(): number;
  /**
   * Updates `theta` in place from `grad`. Throws `nonFiniteGradient` (changing nothing) if `grad` holds NaN or
   * ±Infinity, and `sizeMismatch` if either length differs from `size`.
   */
  step(theta: Float64Array, grad: Float64Array): void;
  stateDict(): OptimizerState;
  loadStateDict(state: unknown): void;
}

/** Shared bookkeeping: sizes, learning rate, step count, gradient checks, state (de)serialisation. */
export abstract class OptimizerBase implements Optimizer {
  abstract readonly kind: OptimizerKind;
  readonly size: number;
  protected readonly lr: LearningRate;
  protected t = 0;
  /** Named state buffers, each of length `size`, allocated once. */
  protected readonly buffers: Record<string, Float64Array> = {};

  protected constructor(
    protected readonly owner: string,
    size: number,
    lr: LearningRate,
  ) {
    this.size = requireNumber(owner, 'size', size, { min: 0, integer: true });
    if (typeof lr === 'number') requireNumber(owner, 'lr', lr, { min: 0 });
    else if (lr === null || typeof lr !== 'object' || typeof lr.rate !== 'function') {
      throw new OptimError(
        'invalidOption',
        `${owner}: lr must be a non-negative number or a schedule with a rate(step) method, got ${String(lr)}`,
      );
    }
    this.lr = lr;
  }

  get stepCount(): number {
    return this.t;
  }

  learningRate(): number {
    if (typeof this.lr === 'number') return this.lr;
    const rate = this.lr.rate(this.t);
    if (!Number.isFinite(rate) || rate < 0) {
      throw new OptimError(
        'invalidOption',
        `${this.owner}: the learning-rate schedule returned ${rate} at step ${this.t}; expected a finite number >= 0`,
      );
    }
    return rate;
  }

  step(theta: Float64Array, grad: Float64Array): void {
    if (!(theta instanceof Float64Array) || !(grad instanceof Float64Array)) {
      throw new OptimError('sizeMismatch', `${this.owner}.step: theta and grad must be Float64Arrays`);
    }
    if (theta.length !== this.size || grad.length !== this.size) {
      throw new OptimError(
        'sizeMismatch',
        `${this.owner}.step: optimizer was built for ${this.size} parameters but theta has ${theta.length} and grad ${grad.length}`,
      );
    }
    // Checked before any write, so a bad gradient leaves parameters and state exactly as they were. x·0 is 0
    // for finite x and NaN otherwise, so one branch-free pass detects NaN and ±Infinity.
    let probe = 0;
    for (let i = 0; i < grad.length; i++) probe += grad[i] * 0;
    if (probe !== 0) {
      const i = grad.findIndex((g) => !Number.isFinite(g));
      throw new OptimError(
        'nonFiniteGradient',
        `${this.owner}.step: gradient[${i}] is ${grad[i]} at step ${this.t}; parameters were not updated`,
      );
    }
    const lr = this.learningRate();
    this.update(theta, grad, lr);
    this.t++;
  }

  /** The algorithm: update `theta` and the buffers in place, for step index `this.t` (0-based). */
  protected abstract update(theta: Float64Array, grad: Float64Array, lr: number): void;

  /** Hyperparameters recorded in the state dict. */
  protected abstract hyperparameters(): Record<string, number | boolean | string>;

  protected allocate(...names: string[]): void {
    for (const name of names) this.buffers[name] = new Float64Array(this.size);
  }

  stateDict(): OptimizerState {
    const buffers: Record<string, string> = {};
    for (const [name, buffer] of Object.entries(this.buffers)) buffers[name] = encodeFloat64Base64(buffer);
    const options = { ...this.hyperparameters() };
    if (typeof this.lr !== 'number') options.lr = 'schedule';
    return {
      format: OPTIMIZER_STATE_FORMAT,
      version: OPTIMIZER_STATE_VERSION,
      kind: this.kind,
      size: this.size,
      step: this.t,
      options,
      buffers,
    };
  }

  loadStateDict(state: unknown): void {
    const where = `${this.owner}.loadStateDict`;
    const fail = (message: string): never => {
      throw new OptimError('invalidState', `${where}: ${message}`);
    };
    if (state === null || typeof state !== 'object') fail(`state must be an object, got ${String(state)}`);
    const s = state as Record<string, unknown>;
    if (s.format !== OPTIMIZER_STATE_FORMAT)
      fail(`format must be '${OPTIMIZER_STATE_FORMAT}', got ${String(s.format)}`);
    if (s.version !== OPTIMIZER_STATE_VERSION) {
      fail(
        `unsupported version ${String(s.version)} (this library reads version ${OPTIMIZER_STATE_VERSION})`,
      );
    }
    if (s.kind !== this.kind) fail(`state is for a '${String(s.kind)}' optimizer, not '${this.kind}'`);
    if (s.size !== this.size)
      fail(`state is for ${String(s.size)} parameters, this optimizer has ${this.size}`);
    if (!Number.isSafeInteger(s.step) || (s.step as number) < 0) {
      fail(`step must be a non-negative integer, got ${String(s.step)}`);
    }
    const stored = s.buffers;
    if (stored === null || typeof stored !== 'object') fail('buffers must be an object');
    const storedNames = Object.keys(stored as object).sort();
    const ownNames = Object.keys(this.buffers).sort();
    if (storedNames.join(',') !== ownNames.join(',')) {
      fail(
        `state has buffers [${storedNames.join(', ')}] but this optimizer uses [${ownNames.join(', ')}] (different options, e.g. momentum?)`,
      );
    }
    // Decode everything into scratch arrays first, so a bad buffer leaves the optimizer unchanged.
    const decoded: Record<string, Float64Array> = {};
    for (const name of ownNames) {
      const out = new Float64Array(this.size);
      const problem = decodeFloat64Base64((stored as Record<string, unknown>)[name], out);
      if (problem !== null) fail(`buffer '${name}' ${problem}`);
      decoded[name] = out;
    }
    for (const name of ownNames) this.buffers[name].set(decoded[name]);
    this.t = s.step as number;
  }
}
