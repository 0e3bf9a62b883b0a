/**
 * 2-d convolutions over NCHW batches, with PyTorch's weight layout [out, in, kh, kw] and default
 * initialisation, and the time-conditioned variant used by ODE-Net image models (torchdiffeq's MNIST
 * example): t enters as an extra input channel placed first, and the inner convolution is named `_layer` as
 * there, so state dicts load directly.
 */
import type { Rng } from '../random/index.js';
import { conv2d } from '../tensor/ops/conv.js';
import { concat } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { NnError } from './errors.js';
import { type Initializer, initPytorchDefault } from './init.js';
import { checkFeatures, checkRng } from './linear.js';
import { Module, type Parameter } from './module.js';
import { type TimeInput, timeFeature } from './time.js';

export interface Conv2dLayerOptions {
  readonly rng: Rng;
  /** Step between output positions (default 1). */
  readonly stride?: number;
  /** Zero padding on every side (default 0). */
  readonly padding?: number;
  /** Whether the layer has a bias (default true). */
  readonly bias?: boolean;
  readonly weightInit?: Initializer;
  readonly biasInit?: Initializer;
}

function kernelDims(owner: string, kernelSize: number | readonly [number, number]): [number, number] {
  const dims: [number, number] =
    typeof kernelSize === 'number' ? [kernelSize, kernelSize] : [kernelSize[0], kernelSize[1]];
  for (const d of dims) checkFeatures(owner, 'kernelSize', d);
  return dims;
}

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: readonly [number, number];
  readonly stride: number;
  readonly padding: number;
  private readonly weightParameter: Parameter;
  private readonly biasParameter: Parameter | null;

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly [number, number],
    options: Conv2dLayerOptions,
  ) {
    super();
    checkFeatures('Conv2d', 'inChannels', inChannels);
    checkFeatures('Conv2d', 'outChannels', outChannels);
    const rng = checkRng('Conv2d', options);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernelDims('Conv2d', kernelSize);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    checkFeatures('Conv2d', 'stride', this.stride);
    checkFeatures('Conv2d', 'padding', this.padding, 0);
    const [kh, kw] = this.kernelSize;
    this.weightParameter = this.addParameter(
      'weight',
      [outChannels, inChannels, kh, kw],
      options.weightInit ?? initPytorchDefault,
      rng,
    );
    this.biasParameter =
      options.bias === false
        ? null
        : this.addParameter('bias', [outChannels], options.biasInit ?? initPytorchDefault, rng, {
            fanIn: inChannels * kh * kw,
            fanOut: outChannels * kh * kw,
          });
  }

  get weight(): Tensor {
    return this.weightParameter.tensor;
  }

  get bias(): Tensor | null {
    return this.biasParameter === null ? null : this.biasParameter.tensor;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new NnError(
        'invalidArgument',
        `Conv2d(${this.inChannels} → ${this.outChannels}): input has shape [${x.shape.join(', ')}], expected [N, ${this.inChannels}, H, W]`,
      );
    }
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

/** conv([t, x]) with t broadcast to one extra input channel, placed first. */
export class ConcatConv2d extends Module {
  override readonly timeDependent = true as const;
  readonly inChannels: number;
  readonly outChannels: number;
  private readonly layer: Conv2d;

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly [number, number],
    options: Conv2dLayerOptions,
  ) {
    super();
    checkFeatures('ConcatConv2d', 'inChannels', inChannels);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.layer = this.addModule('_layer', new Conv2d(inChannels + 1, outChannels, kernelSize, options));
  }

  get weight(): Tensor {
    return this.layer.weight;
  }

  get bias(): Tensor | null {
    return this.layer.bias;
  }

  forward(t: TimeInput, x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new NnError(
        'invalidArgument',
        `ConcatConv2d(${this.inChannels} → ${this.outChannels}): input has shape [${x.shape.join(', ')}], expected [N, ${this.inChannels}, H, W]`,
      );
    }
    return this.layer.forward(concat([timeFeature('ConcatConv2d', t, x, 1), x], 1));
  }
}
