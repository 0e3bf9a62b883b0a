/**
 * The dynamics network of the spiral demo: f(t, y) = Linear(50→2)(tanh(Linear(2→50)(y³))).
 *
 * The cube inside the network is the inductive bias of the example: the true system is dy/dt = A·y³, so a
 * network fed y³ only has to learn a linear map through a tanh layer.
 */

import { initNormal, initZeros } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import type { Rng } from '../random/index.js';
import { mul, tanh } from '../tensor/ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';

export interface SpiralDynamicsOptions {
  readonly rng: Rng;
  /** Hidden units (default 50). */
  readonly hidden?: number;
  /** Standard deviation of the normal weight initialisation (default 0.1); biases start at 0. */
  readonly weightStd?: number;
}

export class SpiralDynamics extends Module {
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
}
