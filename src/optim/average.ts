/**
 * An exponential moving average of the parameters (Polyak–Ruppert averaging in its exponential form), the
 * weights to evaluate a model with when single iterates are noisy: training with a large learning rate
 * wanders around a minimum and now and then leaves it for a while, and the average does not follow every
 * excursion.
 */
import { OptimError } from './errors.js';

export class ParameterAverage {
  /** The averaged parameters (a copy; the model's own parameters are not touched). */
  readonly values: Float64Array;

  /**
   * `decay` in [0, 1): the weight of the old average at each update. Update t (0-based) uses the decay
   * min(decay, t/(t + 10)): the first one copies the parameters, and the early ones do not let the first
   * iterates dominate the average.
   */
  constructor(
    size: number,
    readonly decay: number,
  ) {
    if (!Number.isInteger(size) || size < 0) {
      throw new OptimError('invalidOption', `ParameterAverage: size must be an integer >= 0, got ${size}`);
    }
    if (!(decay >= 0 && decay < 1)) {
      throw new OptimError('invalidOption', `ParameterAverage: decay must be in [0, 1), got ${decay}`);
    }
    this.values = new Float64Array(size);
  }

  /** Folds in the parameters after update number `t` (0-based); the state is the values and t alone. */
  update(parameters: Float64Array, t: number): void {
    if (parameters.length !== this.values.length) {
      throw new OptimError(
        'invalidOption',
        `ParameterAverage.update: parameters have length ${parameters.length}, expected ${this.values.length}`,
      );
    }
    const d = Math.min(this.decay, t / (t + 10));
    const v = this.values;
    for (let i = 0; i < v.length; i++) v[i] = d * v[i] + (1 - d) * parameters[i];
  }
}
