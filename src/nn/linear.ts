/** The dense layer y = x Wᵀ + b, with PyTorch's [out, in] weight layout and default initialisation. */
import type { Rng } from '../random/index.js';
import { linear } from '../tensor/ops/matmul.js';
import type { Tensor } from '../tensor/tensor.js';
import { NnError } from './errors.js';
import { type Initializer, initPytorchDefault } from './init.js';
import { Module, type Parameter } from './module.js';

export interface LinearOptions {
  /** Source of the initial values. */
  readonly rng: Rng;
  /** Whether the layer has a bias (default true). */
  readonly bias?: boolean;
  /** Weight initializer (default: PyTorch's U(−1/√in, 1/√in)). */
  readonly weightInit?: Initializer;
  /** Bias initializer, called with the weight's fanInOut (default: PyTorch's U(−1/√in, 1/√in)). */
  readonly biasInit?: Initializer;
}

export function checkFeatures(owner: string, name: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) {
    throw new NnError('invalidArgument', `${owner}: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

export function checkRng(owner: string, options: { rng?: Rng } | undefined): Rng {
  const rng = options?.rng;
  if (rng === undefined || typeof (rng as Rng).uniform !== 'function') {
    throw new NnError(
      'invalidArgument',
      `${owner}: options.rng (an Rng) is required to initialise the parameters`,
    );
  }
  return rng;
}

/** y = x Wᵀ + b for x [..., inFeatures]; weight [outFeatures, inFeatures], bias [outFeatures]. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly weightParameter: Parameter;
  private readonly biasParameter: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions) {
    super();
    checkFeatures('Linear', 'inFeatures', inFeatures);
    checkFeatures('Linear', 'outFeatures', outFeatures);
    const rng = checkRng('Linear', options);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weightParameter = this.addParameter(
      'weight',
      [outFeatures, inFeatures],
      options.weightInit ?? initPytorchDefault,
      rng,
    );
    this.biasParameter =
      options.bias === false
        ? null
        : this.addParameter('bias', [outFeatures], options.biasInit ?? initPytorchDefault, rng, {
            fanIn: inFeatures,
            fanOut: outFeatures,
          });
  }

  get weight(): Tensor {
    return this.weightParameter.tensor;
  }

  get bias(): Tensor | null {
    return this.biasParameter === null ? null : this.biasParameter.tensor;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new NnError(
        'invalidArgument',
        `Linear(${this.inFeatures} → ${this.outFeatures}): input has shape [${x.shape.join(', ')}], expected [..., ${this.inFeatures}]`,
      );
    }
    return linear(x, this.weight, this.bias);
  }
}
