/** Group normalisation as a module with per-channel affine parameters (PyTorch `nn.GroupNorm`). */

import { Rng } from '../random/index.js';
import { groupNorm } from '../tensor/ops/norm.js';
import type { Tensor } from '../tensor/tensor.js';
import { NnError } from './errors.js';
import { initOnes, initZeros } from './init.js';
import { checkFeatures } from './linear.js';
import { Module, type Parameter } from './module.js';

export interface GroupNormLayerOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Learn a per-channel scale (initialised to 1) and shift (initialised to 0). Default true. */
  readonly affine?: boolean;
}

/** Normalises x [N, C, ...] over groups of C / numGroups channels (Wu & He, ECCV 2018). */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  private readonly weightParameter: Parameter | null;
  private readonly biasParameter: Parameter | null;

  constructor(numGroups: number, numChannels: number, options: GroupNormLayerOptions = {}) {
    super();
    checkFeatures('GroupNorm', 'numGroups', numGroups);
    checkFeatures('GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0) {
      throw new NnError(
        'invalidArgument',
        `GroupNorm: numChannels ${numChannels} is not divisible by numGroups ${numGroups}`,
      );
    }
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = options.eps ?? 1e-5;
    if (!(this.eps >= 0))
      throw new NnError('invalidArgument', `GroupNorm: eps must be >= 0, got ${this.eps}`);
    // Constant initializers draw nothing; an Rng is only needed to satisfy the parameter API.
    const rng = new Rng(0);
    const affine = options.affine ?? true;
    this.weightParameter = affine ? this.addParameter('weight', [numChannels], initOnes, rng) : null;
    this.biasParameter = affine ? this.addParameter('bias', [numChannels], initZeros, rng) : null;
  }

  get weight(): Tensor | null {
    return this.weightParameter === null ? null : this.weightParameter.tensor;
  }

  get bias(): Tensor | null {
    return this.biasParameter === null ? null : this.biasParameter.tensor;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new NnError(
        'invalidArgument',
        `GroupNorm(${this.numGroups}, ${this.numChannels}): input has shape [${x.shape.join(', ')}], expected [N, ${this.numChannels}, ...]`,
      );
    }
    return groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
}
