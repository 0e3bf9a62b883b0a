/**
 * Learning-rate schedules. A schedule is a pure function of the step index (the number of optimizer steps
 * already taken), so it carries no state of its own: saving the optimizer's step count is enough to resume it
 * exactly.
 */
import { OptimError } from './errors.js';
import { checkKeys, requireNumber } from './validate.js';

/** The learning rate to use for the step with 0-based index `step`. */
export interface LearningRateSchedule {
  rate(step: number): number;
}

/** A fixed learning rate. */
export class ConstantSchedule implements LearningRateSchedule {
  constructor(readonly value: number) {
    requireNumber('ConstantSchedule', 'value', value, { min: 0 });
  }

  rate(_step: number): number {
    return this.value;
  }
}

export interface StepScheduleOptions {
  /** Learning rate of the first `stepSize` steps. */
  readonly initial: number;
  /** Number of steps between decays (≥ 1). */
  readonly stepSize: number;
  /** Factor applied at each decay (default 0.1). */
  readonly gamma?: number;
}

/** `initial · gamma^⌊step / stepSize⌋` (PyTorch `StepLR`). */
export class StepSchedule implements LearningRateSchedule {
  readonly initial: number;
  readonly stepSize: number;
  readonly gamma: number;

  constructor(options: StepScheduleOptions) {
    checkKeys('StepSchedule', options, ['initial', 'stepSize', 'gamma']);
    this.initial = requireNumber('StepSchedule', 'initial', options.initial, { min: 0 });
    this.stepSize = requireNumber('StepSchedule', 'stepSize', options.stepSize, { min: 1, integer: true });
    this.gamma = requireNumber('StepSchedule', 'gamma', options.gamma ?? 0.1, { min: 0 });
  }

  rate(step: number): number {
    return this.initial * this.gamma ** Math.floor(step / this.stepSize);
  }
}

export interface ExponentialScheduleOptions {
  readonly initial: number;
  /** Factor applied every step. */
  readonly gamma: number;
}

/** `initial · gamma^step` (PyTorch `ExponentialLR`). */
export class ExponentialSchedule implements LearningRateSchedule {
  readonly initial: number;
  readonly gamma: number;

  constructor(options: ExponentialScheduleOptions) {
    checkKeys('ExponentialSchedule', options, ['initial', 'gamma']);
    this.initial = requireNumber('ExponentialSchedule', 'initial', options.initial, { min: 0 });
    this.gamma = requireNumber('ExponentialSchedule', 'gamma', options.gamma, { min: 0 });
  }

  rate(step: number): number {
    return this.initial * this.gamma ** step;
  }
}

export interface CosineScheduleOptions {
  /** Peak learning rate, reached at the end of the warmup. */
  readonly initial: number;
  /** Total number of steps, warmup included; the rate is `minimum` from then on. */
  readonly totalSteps: number;
  /** Final learning rate (default 0). */
  readonly minimum?: number;
  /** Number of linear warmup steps (default 0). */
  readonly warmupSteps?: number;
}

/**
 * Cosine annealing (Loshchilov & Hutter, "SGDR: Stochastic gradient descent with warm restarts", ICLR 2017,
 * without restarts) after an optional linear warmup (Goyal et al., "Accurate, large minibatch SGD", 2017).
 *
 * With W warmup steps and T total steps: for step s < W the rate is `initial · (s + 1) / W`, so the first step
 * already moves and step W − 1 uses the full rate; for W ≤ s ≤ T it is
 * `minimum + (initial − minimum) · (1 + cos(π (s − W) / (T − W))) / 2`; after T it stays at `minimum`.
 */
export class CosineSchedule implements LearningRateSchedule {
  readonly initial: number;
  readonly totalSteps: number;
  readonly minimum: number;
  readonly warmupSteps: number;

  constructor(options: CosineScheduleOptions) {
    checkKeys('CosineSchedule', options, ['initial', 'totalSteps', 'minimum', 'warmupSteps']);
    this.initial = requireNumber('CosineSchedule', 'initial', options.initial, { min: 0 });
    this.totalSteps = requireNumber('CosineSchedule', 'totalSteps', options.totalSteps, {
      min: 1,
      integer: true,
    });
    this.minimum = requireNumber('CosineSchedule', 'minimum', options.minimum ?? 0, { min: 0 });
    this.warmupSteps = requireNumber('CosineSchedule', 'warmupSteps', options.warmupSteps ?? 0, {
      min: 0,
      integer: true,
    });
    if (this.warmupSteps >= this.totalSteps) {
      throw new OptimError(
        'invalidOption',
        `CosineSchedule: warmupSteps (${this.warmupSteps}) must be smaller than totalSteps (${this.totalSteps})`,
      );
    }
    if (this.minimum > this.initial) {
      throw new OptimError(
        'invalidOption',
        `CosineSchedule: minimum (${this.minimum}) must not exceed initial (${this.initial})`,
      );
    }
  }

  rate(step: number): number {
    if (step < this.warmupSteps) return (this.initial * (step + 1)) / this.warmupSteps;
    const progress = Math.min(1, (step - this.warmupSteps) / (this.totalSteps - this.warmupSteps));
    return this.minimum + ((this.initial - this.minimum) * (1 + Math.cos(Math.PI * progress))) / 2;
  }
}
