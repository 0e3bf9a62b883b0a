/**
 * The dynamics network of the spiral demo: f(t, y) = Linear(50→2)(tanh(Linear(2→50)(y³))).
 *
 * The cube inside the network is the inductive bias of the example: the true system is dy/dt = A·y³, so a
 * network fed y³ only has to learn a linear map through a tanh layer.
 *
 * odeint evaluates and differentiates the network through fused flat kernels ({@link MlpField});
 * `forward` on tensors is the reference they agree with.
 */

import { initNormal, initZeros } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import type { Rng } from '../random/index.js';
import type { FlatDynamics, FlatDynamicsProvider } from '../sensitivity/flat-dynamics.js';
import { MlpField } from '../sensitivity/mlp-field.js';
import { mul, tanh } from '../tensor/ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';

export interface SpiralDynamicsOptions {
  readonly rng: Rng;
  /** Hidden units (default 50). */
  readonly hidden?: number;
  /** Standard deviation of the normal weight initialisation (default 0.1); biases start at 0. */
  readonly weightStd?: number;
}

export class SpiralDynamics extends Module implements FlatDynamicsProvider {
  readonly inner: Linear;
  readonly outer: Linear;

  constructor(options: SpiralDynamicsOptions) {
    super();
    const hidden = options.hidden ?? 50;
    const weightInit = initNormal({ std: options.weightStd ?? 0.1 });
    this.inner = this.addModule(
      'inner',
      new Linear(2, hidden, { rng: options.rng, weightInit, biasInit: initZeros }),
    );
    this.outer = this.addModule(
      'outer',
      new Linear(hidden, 2, { rng: options.rng, weightInit, biasInit: initZeros }),
    );
  }

  forward(y: Tensor): Tensor {
    const cube = mul(mul(y, y), y);
    return this.outer.forward(tanh(this.inner.forward(cube)));
  }

  /** Flat kernels for a state of shape [..., 2] (null for any other shape: the tensor path reports it). */
  flatDynamics(shape: readonly number[]): FlatDynamics | null {
    if (shape.length === 0 || shape[shape.length - 1] !== 2) return null;
    return new MlpField({
      shape,
      parameters: this.parameterTensors(),
      inputPower: 3,
      layers: [
        { weight: this.inner.weight, bias: this.inner.bias, activation: 'tanh' },
        { weight: this.outer.weight, bias: this.outer.bias, activation: 'identity' },
      ],
    });
  }
}
