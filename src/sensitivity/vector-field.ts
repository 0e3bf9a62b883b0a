/**
 * The dynamics of odeint seen two ways: as in-place flat dynamics (t, y, dydt) for the solver, evaluated
 * without a tape, and as a vector–Jacobian product v ↦ (vᵀ∂f/∂y, vᵀ∂f/∂θ, vᵀ∂f/∂t) for the backward pass,
 * evaluated by recording f once and running one first-order backward. A dynamics that differentiates itself
 * (a CNF's Jacobian trace with createGraph) records its own second-order graph, so that backward reaches
 * the parameters through it.
 *
 * A Module that provides flat kernels ({@link FlatDynamicsProvider}) is evaluated and differentiated through
 * them instead, and so is a plain Sequential MLP of nn layers ({@link mlpFieldFor}); the checks on the result
 * (finite values) are the same.
 */
import { gradients } from '../autograd/engine.js';
import { enableGrad, noGrad } from '../autograd/node.js';
import { Module } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';
import { SensitivityError } from './errors.js';
import { type FlatDynamics, hasFlatDynamics } from './flat-dynamics.js';
import type { SavedLease } from './saved-lease.js';
import { mlpFieldFor } from './sequential-mlp.js';

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
  /** Flat kernels of a Module that provides them, else null (the tensor path). */
  readonly flat: FlatDynamics | null;
  /**
   * A ring of the last evaluations' states and saved intermediates (flat kernels with `saveLast`), so that
   * a backward pass can start VJPs from them instead of evaluating f again. Off until {@link startSaving}.
   */
  private ring: SavedLease | null = null;
  private ringCapacity = 0;
  private ringCount = 0;
  private ringNext = 0;

  constructor(
    func: OdeFunction,
    readonly shape: readonly number[],
    parameters: readonly Tensor[],
    /** Whether to use flat kernels when the module has them (false: always the tensor path). */
    flatKernels = true,
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
    this.flat = !flatKernels
      ? null
      : hasFlatDynamics(func)
        ? func.flatDynamics(shape)
        : func instanceof Module
          ? mlpFieldFor(func, shape)
          : null;
    if (this.flat !== null) {
      const own = this.flat.parameters;
      if (own.length !== parameters.length || own.some((p, i) => p !== parameters[i])) {
        throw new SensitivityError(
          'invalidFunction',
          'func',
          `flatDynamics() must read the module's parameters in θ order (${parameters.length} tensors), got ${own.length} different tensors`,
        );
      }
    }
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
    const flat = this.flat;
    if (flat !== null) {
      flat.evaluate(t, y, dydt);
      this.checkFinite(t, dydt);
      if (this.ring !== null) this.remember(t, y);
      return;
    }
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

  /** Floats of intermediates one saved evaluation holds (0 when the dynamics cannot save them). */
  get savedSize(): number {
    const flat = this.flat;
    return flat !== null && flat.saveLast !== undefined && flat.vjpSaved !== undefined
      ? (flat.savedSize ?? 0)
      : 0;
  }

  /** Stop remembering evaluations (the solve that needed them is over). */
  stopSaving(): void {
    this.ring = null;
  }

  /** Copies the intermediates of the last evaluation into `dest` from `at` (requires savedSize > 0). */
  saveLast(dest: Float64Array, at: number): void {
    (this.flat as Required<FlatDynamics>).saveLast(dest, at);
  }

  /**
   * Keep the last `capacity` evaluations' intermediates from now on, in the ring of `lease`. Returns false
   * if the dynamics cannot save them.
   */
  startSaving(capacity: number, lease: SavedLease): boolean {
    const size = this.savedSize;
    if (size === 0) return false;
    lease.ensureRing(capacity, this.n, size);
    this.ring = lease;
    this.ringCapacity = capacity;
    this.ringCount = 0;
    this.ringNext = 0;
    return true;
  }

  private remember(t: number, y: Float64Array): void {
    const slot = this.ringNext;
    const n = this.n;
    const ring = this.ring as SavedLease;
    ring.ringTimes[slot] = t;
    ring.ringStates.set(y.subarray(0, n), slot * n);
    (this.flat as Required<FlatDynamics>).saveLast(ring.ringSaved, slot * this.savedSize);
    this.ringNext = slot + 1 === this.ringCapacity ? 0 : slot + 1;
    if (this.ringCount < this.ringCapacity) this.ringCount++;
  }

  /**
   * Copies the intermediates of the most recent remembered evaluation at exactly (t, y) into `dest` from
   * offset `at`. Returns false when no remembered evaluation has that time and state.
   */
  findSaved(t: number, y: Float64Array, dest: Float64Array, at: number): boolean {
    const ring = this.ring;
    if (ring === null) return false;
    const states = ring.ringStates;
    const times = ring.ringTimes;
    const { n, ringCapacity } = this;
    const size = this.savedSize;
    for (let k = 1; k <= this.ringCount; k++) {
      const slot = (this.ringNext - k + ringCapacity) % ringCapacity;
      if (times[slot] !== t) continue;
      const off = slot * n;
      let q = 0;
      while (q < n && states[off + q] === y[q]) q++;
      if (q === n) {
        dest.set(ring.ringSaved.subarray(slot * size, (slot + 1) * size), at);
        return true;
      }
    }
    return false;
  }

  /** As {@link vjp} (without `value`) from intermediates found by {@link findSaved} for the same (t, y). */
  vjpSaved(
    t: number,
    y: Float64Array,
    v: Float64Array,
    yBar: Float64Array,
    thetaBar: Float64Array | null,
    saved: Float64Array,
    at: number,
  ): number {
    return (this.flat as Required<FlatDynamics>).vjpSaved(t, y, v, yBar, thetaBar, saved, at);
  }

  private checkFinite(t: number, d: Float64Array): void {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i] * 0;
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
    const flat = this.flat;
    if (flat !== null) {
      const tBar = flat.vjp(t, y, v, yBar, thetaBar, value);
      if (value !== null) this.checkFinite(t, value);
      return tBar;
    }
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
