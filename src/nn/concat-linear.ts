/**
 * Time-conditioned dense layers for ODE vector fields f(t, x).
 *
 * The parameter names are those of the reference PyTorch implementations (torchdiffeq's examples and FFJORD,
 * Grathwohl et al., ICLR 2019), so their state dicts load directly: `_layer.weight`, `_hyper_gate.bias`, ...
 */

import { add, mul, sigmoid } from '../tensor/ops/elementwise.js';
import { concat } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { NnError } from './errors.js';
import { checkFeatures, checkRng, Linear, type LinearOptions } from './linear.js';
import { Module } from './module.js';
import { type TimeInput, timeFeature, timeVector } from './time.js';

function checkInput(owner: string, x: Tensor, inFeatures: number): void {
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inFeatures) {
    throw new NnError(
      'invalidArgument',
      `${owner}: input has shape [${x.shape.join(', ')}], expected [..., ${inFeatures}]`,
    );
  }
}

/**
 * y = W [t, x] + b: t enters as an extra input feature placed FIRST (as in torchdiffeq/FFJORD), so the weight
 * is [outFeatures, inFeatures + 1] and column 0 multiplies t.
 */
export class ConcatLinear extends Module {
  override readonly timeDependent = true as const;
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly layer: Linear;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions) {
    super();
    checkFeatures('ConcatLinear', 'inFeatures', inFeatures);
    checkFeatures('ConcatLinear', 'outFeatures', outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.layer = this.addModule('_layer', new Linear(inFeatures + 1, outFeatures, options));
  }

  get weight(): Tensor {
    return this.layer.weight;
  }

  get bias(): Tensor | null {
    return this.layer.bias;
  }

  forward(t: TimeInput, x: Tensor): Tensor {
    checkInput('ConcatLinear', x, this.inFeatures);
    const tx = concat([timeFeature('ConcatLinear', t, x, x.ndim - 1), x], x.ndim - 1);
    return this.layer.forward(tx);
  }
}

/**
 * FFJORD's ConcatSquash layer: y = (W x + b) ⊙ σ(W_g t + b_g) + W_b t. Time gates and shifts every output
 * feature, which conditions on t more expressively than concatenation at the same cost.
 */
export class ConcatSquashLinear extends Module {
  override readonly timeDependent = true as const;
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly layer: Linear;
  private readonly hyperBias: Linear;
  private readonly hyperGate: Linear;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions) {
    super();
    checkFeatures('ConcatSquashLinear', 'inFeatures', inFeatures);
    checkFeatures('ConcatSquashLinear', 'outFeatures', outFeatures);
    const rng = checkRng('ConcatSquashLinear', options);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.layer = this.addModule('_layer', new Linear(inFeatures, outFeatures, options));
    // Same registration order and bias settings as FFJORD: _hyper_bias has no bias, _hyper_gate has one.
    this.hyperBias = this.addModule(
      '_hyper_bias',
      new Linear(1, outFeatures, { ...options, rng, bias: false }),
    );
    this.hyperGate = this.addModule(
      '_hyper_gate',
      new Linear(1, outFeatures, { ...options, rng, bias: true }),
    );
  }

  /** The main layer, the time-shift layer (no bias) and the time-gate layer. */
  get parts(): { readonly layer: Linear; readonly hyperBias: Linear; readonly hyperGate: Linear } {
    return { layer: this.layer, hyperBias: this.hyperBias, hyperGate: this.hyperGate };
  }

  forward(t: TimeInput, x: Tensor): Tensor {
    checkInput('ConcatSquashLinear', x, this.inFeatures);
    const tt = timeVector('ConcatSquashLinear', t, x);
    const gate = sigmoid(this.hyperGate.forward(tt));
    return add(mul(this.layer.forward(x), gate), this.hyperBias.forward(tt));
  }
}
