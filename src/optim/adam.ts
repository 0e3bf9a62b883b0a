/**
 * Adam (Kingma & Ba, "Adam: A method for stochastic optimization", ICLR 2015) and AdamW (Loshchilov & Hutter,
 * "Decoupled weight decay regularization", ICLR 2019), with PyTorch's `torch.optim.Adam`/`AdamW` semantics.
 * At step t = 1, 2, ...:
 *
 *   Adam:  g ← grad + weightDecay · θ   (L2 penalty, part of the gradient)
 *   AdamW: θ ← θ · (1 − lr · weightDecay), g ← grad   (decay decoupled from the adaptive scaling)
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²
 *   v̂ ← max(v̂, v) with amsgrad (Reddi et al., ICLR 2018), else v̂ = v
 *   θ ← θ − (lr / (1 − β1^t)) · m / (√v̂ / √(1 − β2^t) + eps)
 *
 * eps is added after the bias correction of the second moment, as in PyTorch; this is what makes the first
 * Adam step move every coordinate by almost exactly lr.
 */
import { type LearningRate, OptimizerBase, type OptimizerKind } from './optimizer.js';
import { checkKeys, requireBoolean, requireNumber } from './validate.js';

export interface AdamOptions {
  /** Learning rate or schedule (default 1e-3). */
  readonly lr?: LearningRate;
  /** Decay rate of the first moment (default 0.9). */
  readonly beta1?: number;
  /** Decay rate of the second moment (default 0.999). */
  readonly beta2?: number;
  /** Added to the denominator for stability (default 1e-8). */
  readonly eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay rate (default 0.01). */
  readonly weightDecay?: number;
  /** Use the running maximum of the second moment (default false). */
  readonly amsgrad?: boolean;
}

const KEYS = ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'amsgrad'];

export class Adam extends OptimizerBase {
  readonly kind: OptimizerKind;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  /** True for AdamW's decoupled decay. */
  protected readonly decoupled: boolean;

  constructor(size: number, options: AdamOptions = {}) {
    const decoupled = new.target === AdamW;
    const owner = decoupled ? 'AdamW' : 'Adam';
    checkKeys(owner, options, KEYS);
    super(owner, size, options.lr ?? 1e-3);
    this.kind = decoupled ? 'adamw' : 'adam';
    this.decoupled = decoupled;
    this.beta1 = requireNumber(owner, 'beta1', options.beta1 ?? 0.9, { min: 0, maxExclusive: 1 });
    this.beta2 = requireNumber(owner, 'beta2', options.beta2 ?? 0.999, { min: 0, maxExclusive: 1 });
    this.eps = requireNumber(owner, 'eps', options.eps ?? 1e-8, { min: 0 });
    this.weightDecay = requireNumber(owner, 'weightDecay', options.weightDecay ?? (decoupled ? 0.01 : 0), {
      min: 0,
    });
    this.amsgrad = requireBoolean(owner, 'amsgrad', options.amsgrad, false);
    this.allocate('firstMoment', 'secondMoment');
    if (this.amsgrad) this.allocate('maxSecondMoment');
  }

  protected update(theta: Float64Array, grad: Float64Array, lr: number): void {
    const n = theta.length;
    const { beta1, beta2, eps, weightDecay } = this;
    const t = this.t + 1;
    const stepSize = lr / (1 - beta1 ** t);
    const sqrtCorrection2 = Math.sqrt(1 - beta2 ** t);
    const m = this.buffers.firstMoment;
    const v = this.buffers.secondMoment;
    const vMax = this.amsgrad ? this.buffers.maxSecondMoment : null;
    const l2 = this.decoupled ? 0 : weightDecay;
    const shrink = this.decoupled ? 1 - lr * weightDecay : 1;
    for (let i = 0; i < n; i++) {
      const p = theta[i] * shrink;
      const g = grad[i] + l2 * theta[i];
      const mi = beta1 * m[i] + (1 - beta1) * g;
      let vi = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      if (vMax !== null) {
        if (vMax[i] > vi) vi = vMax[i];
        vMax[i] = vi;
      }
      theta[i] = p - (stepSize * mi) / (Math.sqrt(vi) / sqrtCorrection2 + eps);
    }
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return {
      ...(typeof this.lr === 'number' ? { lr: this.lr } : {}),
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      amsgrad: this.amsgrad,
    };
  }
}

/** Adam with decoupled weight decay; `weightDecay` defaults to 0.01 as in PyTorch. */
export class AdamW extends Adam {}
