/**
 * The dynamics of odeint seen two ways: as in-place flat dynamics (t, y, dydt) for the solver, evaluated
 * without a tape, and as a vector–Jacobian product v ↦ (vᵀ∂f/∂y, vᵀ∂f/∂θ, vᵀ∂f/∂t) for the backward pass,
 * evaluated by recording f once and running one first-order backward. A dynamics that differentiates itself
 * (a CNF's Jacobian trace with createGraph) records its own second-order graph, so that backward reaches
 * the parameters through it.
 */
import { gradients } from '../autograd/engine.js';
import { enableGrad, noGrad } from '../autograd/node.js';
import { Module } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';
import { SensitivityError } from './errors.js';

/** A dynamics function of tensors: dy/dt = f(t, y), t a one-element tensor, y of the state's shape. */
export type TensorDynamics = (t: Tensor, y: Tensor) => Tensor;

/** What odeint accepts as dynamics: a function of (t, y) or a Module with `forward(t, y)` (or `forward(y)`). */
export type OdeFunction = TensorDynamics | Module;

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export class VectorField {
  readonly n: number;
  /** Length of θ (all parameters, flattened in order). */
  readonly numParameters: number;
  readonly parameters: readonly Tensor[];
  private readonly offsets: Int32Array;
  private readonly call: TensorDynamics;
  private readonly inputs: Tensor[];

  constructor(
    func: OdeFunction,
    readonly shape: readonly number[],
    parameters: readonly Tensor[],
  ) {
    this.n = shape.reduce((a, b) => a * b, 1);
    if (func instanceof Module) {
      const m = func as Module & {
        forward: (a: unknown, b?: unknown) => Tensor;
      };
      if (typeof m.forward !== 'function') {
        throw new SensitivityError('invalidFunction', 'func', 'the Module has no forward method');
      }
      this.call = m.timeDependent ? (t, y) => m.forward(t, y) : (_t, y) => m.forward(y);
    } else if (typeof func === 'function') {
      this.call = func;
    } else {
      throw new SensitivityError(
        'invalidFunction',
        'func',
        `expected a function (t, y) => Tensor or a Module, got ${typeof func}`,
      );
    }
    this.parameters = parameters;
    this.offsets = new Int32Array(parameters.length + 1);
    for (let i = 0; i < parameters.length; i++) this.offsets[i + 1] = this.offsets[i] + parameters[i].size;
    this.numParameters = this.offsets[parameters.length];
    this.inputs = new Array(parameters.length + 2);
    for (let i = 0; i < parameters.length; i++) this.inputs[i + 2] = parameters[i];
  }

  private check(t: number, out: unknown): Tensor {
    if (!(out instanceof Tensor)) {
      throw new SensitivityError(
        'wrongOutputShape',
        'func',
        `at t = ${t} the dynamics returned ${out === null ? 'null' : typeof out}, expected a Tensor of shape ${formatShape(this.shape)}`,
      );
    }
    const s = out.shape;
    let same = s.length === this.shape.length;
    for (let i = 0; same && i < s.length; i++) same = s[i] === this.shape[i];
    if (!same) {
      throw new SensitivityError(
        'wrongOutputShape',
        'func',
        `at t = ${t} the dynamics returned shape ${formatShape(s)} for a state of shape ${formatShape(this.shape)}; dy/dt must have the state's shape`,
      );
    }
    return out;
  }

  /** dydt = f(t, y) without recording (the solver's dynamics). Throws on a wrong shape or non-finite value. */
  evaluate(t: number, y: Float64Array, dydt: Float64Array): void {
    const { call, shape } = this;
    const out = noGrad(() => this.check(t, call(new Tensor(Float64Array.of(t), []), new Tensor(y, shape))));
    const d = out.data;
    let s = 0;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      dydt[i] = v;
      s += v * 0;
    }
    if (s !== 0) this.nonFinite(t, d);
  }

  private nonFinite(t: number, d: ArrayLike<number>): never {
    let i = 0;
    while (i < d.length && Number.isFinite(d[i])) i++;
    throw new SensitivityError(
      'nonFiniteDerivative',
      'func',
      `at t = ${t} the dynamics returned ${d[i]} at flat index ${i} of a state of shape ${formatShape(this.shape)}; check the model for overflow or division by zero`,
    );
  }

  /**
   * One vector–Jacobian product at (t, y) with cotangent v: adds vᵀ∂f/∂y to `yBar` and vᵀ∂f/∂θ to `thetaBar`
   * (when given), writes f(t, y) to `value` (when given) and returns vᵀ∂f/∂t.
   */
  vjp(
    t: number,
    y: Float64Array,
    v: Float64Array,
    yBar: Float64Array,
    thetaBar: Float64Array | null,
    value: Float64Array | null,
  ): number {
    const { shape, inputs, offsets } = this;
    const yLeaf = new Tensor(y, shape, true);
    const tLeaf = new Tensor(Float64Array.of(t), [], true);
    const out = enableGrad(() => this.check(t, this.call(tLeaf, yLeaf)));
    if (value !== null) {
      const d = out.data;
      let s = 0;
      for (let i = 0; i < d.length; i++) {
        value[i] = d[i];
        s += d[i] * 0;
      }
      if (s !== 0) this.nonFinite(t, d);
    }
    if (!out.requiresGrad) return 0;
    inputs[0] = yLeaf;
    inputs[1] = tLeaf;
    const count = thetaBar === null ? 2 : inputs.length;
    const grads = gradients(out, count === inputs.length ? inputs : inputs.slice(0, 2), new Tensor(v, shape));
    const gy = grads[0].data;
    for (let i = 0; i < gy.length; i++) yBar[i] += gy[i];
    if (thetaBar !== null) {
      for (let p = 2; p < count; p++) {
        const g = grads[p].data;
        const off = offsets[p - 2];
        for (let i = 0; i < g.length; i++) thetaBar[off + i] += g[i];
      }
    }
    return grads[1].data[0];
  }
}
