/** Parameter-free activation modules, so that activations can sit inside a {@link Sequential}. */
import { elu, mulScalar, relu, sigmoid, softplus, tanh } from '../tensor/ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { NnError } from './errors.js';
import { Module } from './module.js';

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

export class Relu extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** x for x > 0, alpha (eˣ − 1) otherwise. */
export class Elu extends Module {
  readonly alpha: number;

  constructor(options: { alpha?: number } = {}) {
    super();
    this.alpha = options.alpha ?? 1;
    if (!Number.isFinite(this.alpha))
      throw new NnError('invalidArgument', `Elu: alpha must be finite, got ${this.alpha}`);
  }

  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
}

/** log(1 + e^(beta x)) / beta (PyTorch `Softplus` without its linear cut-off, which is not smooth). */
export class Softplus extends Module {
  readonly beta: number;

  constructor(options: { beta?: number } = {}) {
    super();
    this.beta = options.beta ?? 1;
    if (!(this.beta > 0) || !Number.isFinite(this.beta)) {
      throw new NnError('invalidArgument', `Softplus: beta must be a finite number > 0, got ${this.beta}`);
    }
  }

  forward(x: Tensor): Tensor {
    if (this.beta === 1) return softplus(x);
    return mulScalar(softplus(mulScalar(x, this.beta)), 1 / this.beta);
  }
}
