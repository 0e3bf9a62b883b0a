/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, with PyTorch's
 * `torch.optim.SGD` semantics (Sutskever et al., "On the importance of initialization and momentum in deep
 * learning", ICML 2013, in the form PyTorch uses):
 *
 *   g ← grad + weightDecay · θ
 *   b ← g on the first step, else momentum · b + (1 − dampening) · g
 *   d ← g + momentum · b (Nesterov) or b (classical) or g (no momentum)
 *   θ ← θ − lr · d
 */
import { OptimError } from './errors.js';
import { type LearningRate, OptimizerBase, type OptimizerKind } from './optimizer.js';
import { checkKeys, requireBoolean, requireNumber } from './validate.js';

export interface SgdOptions {
  /** Learning rate or schedule (required). */
  readonly lr: LearningRate;
  /** Momentum factor (default 0: plain gradient descent). */
  readonly momentum?: number;
  /** Dampening of the momentum accumulation (default 0). */
  readonly dampening?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  readonly nesterov?: boolean;
  /** L2 penalty added to the gradient (default 0). */
  readonly weightDecay?: number;
}

export class Sgd extends OptimizerBase {
  readonly kind: OptimizerKind = 'sgd';
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(size: number, options: SgdOptions) {
    checkKeys('Sgd', options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay']);
    super('Sgd', size, options?.lr);
    this.momentum = requireNumber('Sgd', 'momentum', options.momentum ?? 0, { min: 0 });
    this.dampening = requireNumber('Sgd', 'dampening', options.dampening ?? 0, { min: 0, max: 1 });
    this.nesterov = requireBoolean('Sgd', 'nesterov', options.nesterov, false);
    this.weightDecay = requireNumber('Sgd', 'weightDecay', options.weightDecay ?? 0, { min: 0 });
    if (this.nesterov && (this.momentum === 0 || this.dampening !== 0)) {
      throw new OptimError(
        'invalidOption',
        `Sgd: nesterov needs momentum > 0 and dampening = 0, got momentum ${this.momentum}, dampening ${this.dampening}`,
      );
    }
    if (this.momentum !== 0) this.allocate('momentum');
  }

  protected update(theta: Float64Array, grad: Float64Array, lr: number): void {
    const n = theta.length;
    const wd = this.weightDecay;
    const mu = this.momentum;
    if (mu === 0) {
      for (let i = 0; i < n; i++) theta[i] -= lr * (grad[i] + wd * theta[i]);
      return;
    }
    const buf = this.buffers.momentum;
    const first = this.t === 0;
    const keep = 1 - this.dampening;
    const nesterov = this.nesterov;
    for (let i = 0; i < n; i++) {
      const g = grad[i] + wd * theta[i];
      const b = first ? g : mu * buf[i] + keep * g;
      buf[i] = b;
      theta[i] -= lr * (nesterov ? g + mu * b : b);
    }
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return {
      ...(typeof this.lr === 'number' ? { lr: this.lr } : {}),
      momentum: this.momentum,
      dampening: this.dampening,
      nesterov: this.nesterov,
      weightDecay: this.weightDecay,
    };
  }
}
