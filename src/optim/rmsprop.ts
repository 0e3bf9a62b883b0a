/**
 * RMSprop (Tieleman & Hinton, "Lecture 6.5 — RMSprop", COURSERA: Neural Networks for Machine Learning, 2012)
 * with PyTorch's `torch.optim.RMSprop` semantics, including its centred variant (Graves, "Generating
 * sequences with recurrent neural networks", 2013):
 *
 *   g ← grad + weightDecay · θ
 *   s ← alpha · s + (1 − alpha) · g²
 *   centred: a ← alpha · a + (1 − alpha) · g,  d ← √(s − a²) + eps;  otherwise d ← √s + eps
 *   momentum > 0: b ← momentum · b + g / d,  θ ← θ − lr · b;  otherwise θ ← θ − lr · g / d
 *
 * Note that eps is added outside the square root, as PyTorch does (TensorFlow adds it inside).
 */
import { type LearningRate, OptimizerBase, type OptimizerKind } from './optimizer.js';
import { checkKeys, requireBoolean, requireNumber } from './validate.js';

export interface RmspropOptions {
  /** Learning rate or schedule (default 0.01). */
  readonly lr?: LearningRate;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  readonly alpha?: number;
  /** Added to the denominator for stability (default 1e-8). */
  readonly eps?: number;
  /** Momentum factor (default 0). */
  readonly momentum?: number;
  /** Normalise by the estimated variance instead of the second moment (default false). */
  readonly centered?: boolean;
  /** L2 penalty added to the gradient (default 0). */
  readonly weightDecay?: number;
}

export class Rmsprop extends OptimizerBase {
  readonly kind: OptimizerKind = 'rmsprop';
  readonly alpha: number;
  readonly eps: number;
  readonly momentum: number;
  readonly centered: boolean;
  readonly weightDecay: number;

  constructor(size: number, options: RmspropOptions = {}) {
    checkKeys('Rmsprop', options, ['lr', 'alpha', 'eps', 'momentum', 'centered', 'weightDecay']);
    super('Rmsprop', size, options.lr ?? 0.01);
    this.alpha = requireNumber('Rmsprop', 'alpha', options.alpha ?? 0.99, { min: 0, max: 1 });
    this.eps = requireNumber('Rmsprop', 'eps', options.eps ?? 1e-8, { min: 0 });
    this.momentum = requireNumber('Rmsprop', 'momentum', options.momentum ?? 0, { min: 0 });
    this.centered = requireBoolean('Rmsprop', 'centered', options.centered, false);
    this.weightDecay = requireNumber('Rmsprop', 'weightDecay', options.weightDecay ?? 0, { min: 0 });
    this.allocate('squareAverage');
    if (this.centered) this.allocate('gradientAverage');
    if (this.momentum !== 0) this.allocate('momentum');
  }

  protected update(theta: Float64Array, grad: Float64Array, lr: number): void {
    const n = theta.length;
    const { alpha, eps, momentum: mu, weightDecay: wd, centered } = this;
    const sq = this.buffers.squareAverage;
    const avg = centered ? this.buffers.gradientAverage : null;
    const buf = mu !== 0 ? this.buffers.momentum : null;
    for (let i = 0; i < n; i++) {
      const g = grad[i] + wd * theta[i];
      const s = alpha * sq[i] + (1 - alpha) * g * g;
      sq[i] = s;
      let d: number;
      if (avg !== null) {
        const a = alpha * avg[i] + (1 - alpha) * g;
        avg[i] = a;
        d = Math.sqrt(s - a * a) + eps;
      } else {
        d = Math.sqrt(s) + eps;
      }
      if (buf !== null) {
        const b = mu * buf[i] + g / d;
        buf[i] = b;
        theta[i] -= lr * b;
      } else {
        theta[i] -= (lr * g) / d;
      }
    }
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return {
      ...(typeof this.lr === 'number' ? { lr: this.lr } : {}),
      alpha: this.alpha,
      eps: this.eps,
      momentum: this.momentum,
      centered: this.centered,
      weightDecay: this.weightDecay,
    };
  }
}
