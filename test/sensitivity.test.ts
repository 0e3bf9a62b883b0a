import { describe, expect, it } from 'vitest';
import { backward, enableGrad, gradients, noGrad } from '../src/autograd/index.js';
import { SpiralDynamics } from '../src/models/spiral-dynamics.js';
import { Linear, Sequential, Sigmoid, Tanh } from '../src/nn/index.js';
import { Rng } from '../src/random/index.js';
import type { FlatDynamics } from '../src/sensitivity/flat-dynamics.js';
import {
  createOdeStats,
  type GradientMode,
  type OdeintOptions,
  type OdeStats,
  odeint,
  SensitivityError,
} from '../src/sensitivity/index.js';
import { MlpField } from '../src/sensitivity/mlp-field.js';
import { add, concat, mul, neg, slice, sum, Tensor } from '../src/tensor/index.js';

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-300);
}

function mlp(seed: number, width: number, inputs = 2): Sequential {
  const rng = new Rng(seed);
  return new Sequential(
    new Linear(inputs, width, { rng }),
    new Tanh(),
    new Linear(width, 2, { rng }),
  ).finalize();
}

function batchState(batch: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: batch * 2 }, () => rng.normal());
}

/** L = Σ sin(i+1)·out_i², gradients into the model and y0. */
function gradientsOf(
  model: Sequential,
  y0: Float64Array,
  shape: number[],
  times: number[],
  options: OdeintOptions,
  func?: (t: Tensor, y: Tensor) => Tensor,
) {
  model.zeroGrad();
  const y = new Tensor(Float64Array.from(y0), shape, true);
  const stats = createOdeStats();
  const out = func
    ? odeint(func, y, times, { ...options, params: model.parameterTensors(), stats })
    : odeint(model, y, times, { ...options, stats });
  const afterForward = { ...stats.forward };
  const w = new Tensor(
    Float64Array.from({ length: out.size }, (_, i) => Math.sin(i + 1)),
    out.shape,
  );
  backward(sum(mul(w, mul(out, out))));
  return {
    y: Float64Array.from(y.grad?.data ?? []),
    theta: Float64Array.from(model.gradients),
    stats,
    afterForward,
  };
}

function lossOf(
  model: Sequential,
  y0: Float64Array,
  shape: number[],
  times: number[],
  options: OdeintOptions,
  func?: (t: Tensor, y: Tensor) => Tensor,
): number {
  return noGrad(() => {
    const out = odeint(func ?? model, new Tensor(y0, shape), times, options);
    let s = 0;
    for (let i = 0; i < out.size; i++) s += Math.sin(i + 1) * out.data[i] ** 2;
    return s;
  });
}

describe('memory of the gradient modes', () => {
  const batch = 64;
  const model = mlp(5, 8);
  const y0 = batchState(batch, 1);
  const n = batch * 2;
  const measure = (gradient: GradientMode, step: number, extra: OdeintOptions = {}): OdeStats => {
    const r = gradientsOf(model, y0, [batch, 2], [0, 1, 2], { method: 'rk4', step, gradient, ...extra });
    return r.stats;
  };
  it('direct stores stage inputs for every step: 10× the steps, ~10× the floats', () => {
    const few = measure('direct', 0.1);
    const many = measure('direct', 0.01);
    expect(many.forward.naccept).toBe(10 * few.forward.naccept);
    expect(many.storedFloats / few.storedFloats).toBeGreaterThan(9);
    expect(few.storedFloats).toBeGreaterThanOrEqual(4 * n * few.forward.naccept);
  });
  it('adjoint stores only the outputs: flat in the number of steps', () => {
    const few = measure('adjoint', 0.1);
    const many = measure('adjoint', 0.01);
    expect(many.storedFloats).toBe(few.storedFloats);
    expect(few.storedFloats).toBe(3 * n);
    expect(many.backward.nvjp).toBeGreaterThan(5 * few.backward.nvjp);
  });
  it('checkpoint stores at most `checkpoints` states (plus three times per step) and recomputes', () => {
    const few = measure('checkpoint', 0.1, { checkpoints: 4 });
    const many = measure('checkpoint', 0.01, { checkpoints: 4 });
    for (const s of [few, many]) {
      expect(s.storedFloats).toBeLessThanOrEqual(4 * n + 3 * s.forward.naccept);
      expect(s.backward.nrecompute).toBeGreaterThanOrEqual(4 * s.forward.naccept);
    }
    // The state part is bounded by the checkpoints; only the step times (3 scalars per step) grow.
    expect(many.storedFloats - 3 * many.forward.naccept).toBeLessThanOrEqual(4 * n);
    expect(few.storedFloats - 3 * few.forward.naccept).toBeGreaterThanOrEqual(2 * n);
    const direct = measure('direct', 0.01);
    expect(many.storedFloats).toBeLessThan(direct.storedFloats / 20);
  });
  it('all three give the same gradient on the fixed-step problem (adjoint to its discretisation error)', () => {
    const d = gradientsOf(model, y0, [batch, 2], [0, 1, 2], {
      method: 'rk4',
      step: 0.01,
      gradient: 'direct',
    });
    const c = gradientsOf(model, y0, [batch, 2], [0, 1, 2], {
      method: 'rk4',
      step: 0.01,
      gradient: 'checkpoint',
      checkpoints: 4,
    });
    const a = gradientsOf(model, y0, [batch, 2], [0, 1, 2], {
      method: 'rk4',
      step: 0.01,
      gradient: 'adjoint',
    });
    expect(relErr(c.theta, d.theta)).toBeLessThan(1e-12);
    expect(relErr(c.y, d.y)).toBeLessThan(1e-12);
    expect(relErr(a.theta, d.theta)).toBeLessThan(1e-6);
  });
});

describe('stats', () => {
  it('reports forward work after the solve and backward work after backward()', () => {
    const model = mlp(2, 8);
    const y0 = batchState(3, 2);
    const r = gradientsOf(model, y0, [3, 2], [0, 0.5, 1], { rtol: 1e-6, atol: 1e-8 });
    expect(r.afterForward.nfe).toBeGreaterThan(0);
    expect(r.afterForward.naccept).toBeGreaterThan(0);
    expect(r.stats.forward).toEqual(r.afterForward);
    // dopri5 differentiates all 7 stages per step (the FSAL stage enters the dense output).
    expect(r.stats.backward.nvjp).toBe(7 * r.afterForward.naccept);
    expect(r.stats.backward.nfe).toBe(r.stats.backward.nvjp);
  });
});

describe('seminorm', () => {
  it('same gradient to tolerance with fewer backward evaluations', () => {
    const model = mlp(11, 32);
    const y0 = batchState(4, 3);
    const times = [0, 1, 2, 3];
    const opts: OdeintOptions = { rtol: 1e-7, atol: 1e-9, gradient: 'adjoint' };
    const full = gradientsOf(model, y0, [4, 2], times, opts);
    const semi = gradientsOf(model, y0, [4, 2], times, { ...opts, seminorm: true });
    const exact = gradientsOf(model, y0, [4, 2], times, { rtol: 1e-11, atol: 1e-12, gradient: 'direct' });
    expect(relErr(full.theta, exact.theta)).toBeLessThan(1e-4);
    expect(relErr(semi.theta, exact.theta)).toBeLessThan(1e-4);
    expect(relErr(semi.y, exact.y)).toBeLessThan(1e-4);
    expect(semi.stats.backward.nfe).toBeLessThan(full.stats.backward.nfe);
  });
});

describe('higher order: CNF-style dynamics with an exact Jacobian trace', () => {
  const batch = 2;
  const net = mlp(7, 6);
  const seeds = [0, 1].map((d) => {
    const s = new Float64Array(batch * 2);
    for (let b = 0; b < batch; b++) s[b * 2 + d] = 1;
    return new Tensor(s, [batch, 2]);
  });
  /** State [z (2), log p (1)] per row: dz/dt = net(z), d log p/dt = −tr(∂net/∂z). */
  const cnf = (_t: Tensor, y: Tensor): Tensor =>
    enableGrad(() => {
      let z = slice(y, 1, 0, 2);
      if (!z.requiresGrad) z = new Tensor(z.data, z.shape, true);
      const fz = net.forward(z);
      let trace: Tensor | null = null;
      for (let d = 0; d < 2; d++) {
        const g = gradients(fz, [z], seeds[d], { createGraph: true })[0];
        const col = slice(g, 1, d, d + 1);
        trace = trace === null ? col : add(trace, col);
      }
      return concat([fz, neg(trace as Tensor)], 1);
    });
  const y0 = Float64Array.of(0.3, -0.8, 0, 1.1, 0.4, 0);
  const times = [0, 0.6, 1.2];
  for (const gradient of ['direct', 'checkpoint', 'adjoint'] as const) {
    it(`${gradient}: gradients match central finite differences`, () => {
      const opts: OdeintOptions = { rtol: 1e-10, atol: 1e-12, gradient };
      const r = gradientsOf(net, y0, [batch, 3], times, opts, cnf);
      const h = 1e-6;
      const theta = net.parameters;
      const picks = [0, 5, 13, theta.length - 3];
      const fdTheta = picks.map((k) => {
        const old = theta[k];
        theta[k] = old + h;
        const up = lossOf(net, y0, [batch, 3], times, opts, cnf);
        theta[k] = old - h;
        const down = lossOf(net, y0, [batch, 3], times, opts, cnf);
        theta[k] = old;
        return (up - down) / (2 * h);
      });
      const fdY = Array.from(y0, (_, i) => {
        const up = Float64Array.from(y0);
        const down = Float64Array.from(y0);
        up[i] += h;
        down[i] -= h;
        return (
          (lossOf(net, up, [batch, 3], times, opts, cnf) - lossOf(net, down, [batch, 3], times, opts, cnf)) /
          (2 * h)
        );
      });
      expect(
        relErr(
          picks.map((k) => r.theta[k]),
          fdTheta,
        ),
      ).toBeLessThan(1e-6);
      expect(relErr(r.y, fdY)).toBeLessThan(1e-6);
    });
  }
});

describe('bad input', () => {
  const model = mlp(1, 4);
  const y0 = () => new Tensor(Float64Array.of(1, 2), [1, 2], true);
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(SensitivityError);
      return (e as SensitivityError).code;
    }
    throw new Error('expected a SensitivityError');
  };
  it('rejects a dynamics returning the wrong shape, naming the time and the shapes', () => {
    const bad = (_t: Tensor, y: Tensor) => slice(y, 1, 0, 1);
    expect(code(() => odeint(bad, y0(), [0, 1]))).toBe('wrongOutputShape');
    expect(() => odeint(bad, y0(), [0, 1])).toThrow(/t = 0.*\[1, 1\].*\[1, 2\]/);
  });
  it('rejects non-finite derivatives, naming the time', () => {
    const bad = (t: Tensor, y: Tensor) =>
      t.data[0] > 0.5 ? mul(y, new Tensor(Float64Array.of(Number.NaN), [])) : y;
    expect(code(() => odeint(bad, y0(), [0, 1]))).toBe('nonFiniteDerivative');
    expect(() => odeint(bad, y0(), [0, 1])).toThrow(/at t = 0\.[5-9]/);
  });
  it('rejects non-monotone times and fewer than two times', () => {
    expect(code(() => odeint(model, y0(), [0, 1, 1]))).toBe('invalidTimes');
    expect(code(() => odeint(model, y0(), [0, 1, 0.5]))).toBe('invalidTimes');
    expect(code(() => odeint(model, y0(), [0]))).toBe('invalidTimes');
    expect(code(() => odeint(model, y0(), new Tensor(Float64Array.of(0, 1, 2, 3), [2, 2])))).toBe(
      'invalidTimes',
    );
  });
  it('rejects unknown gradient modes and options that do not apply to the mode', () => {
    expect(code(() => odeint(model, y0(), [0, 1], { gradient: 'backprop' as GradientMode }))).toBe(
      'unknownGradientMode',
    );
    expect(code(() => odeint(model, y0(), [0, 1], { adjointOptions: { rtol: 1e-6 } }))).toBe(
      'optionNotForMode',
    );
    expect(code(() => odeint(model, y0(), [0, 1], { gradient: 'adjoint', checkpoints: 4 }))).toBe(
      'optionNotForMode',
    );
    expect(code(() => odeint(model, y0(), [0, 1], { gradient: 'direct', seminorm: true }))).toBe(
      'optionNotForMode',
    );
    expect(code(() => odeint(model, y0(), [0, 1], { rtoll: 1e-3 } as OdeintOptions))).toBe('unknownOption');
    expect(code(() => odeint(model, y0(), [0, 1], { gradient: 'checkpoint', checkpoints: 0 }))).toBe(
      'invalidOption',
    );
    expect(code(() => odeint(model, y0(), [0, 1], { params: [] }))).toBe('invalidOption');
  });
  it('rejects discrete gradient modes for non-Runge–Kutta methods, and the adjoint handles them', () => {
    expect(code(() => odeint(model, y0(), [0, 1], { method: 'bdf' }))).toBe('unsupportedMethod');
    expect(() => odeint(model, y0(), [0, 1], { method: 'adams', gradient: 'checkpoint' })).toThrow(
      /'adams'.*gradient: 'adjoint'/,
    );
    // Without gradients any method works.
    expect(noGrad(() => odeint(model, y0(), [0, 1], { method: 'bdf' })).shape).toEqual([2, 1, 2]);
    const times = [0, 0.5, 1];
    const state = Float64Array.of(1, 2);
    const viaBdf = gradientsOf(model, state, [1, 2], times, {
      method: 'bdf',
      rtol: 1e-9,
      atol: 1e-11,
      gradient: 'adjoint',
      adjointOptions: { method: 'dopri5', rtol: 1e-10, atol: 1e-12 },
    });
    const exact = gradientsOf(model, state, [1, 2], times, { rtol: 1e-11, atol: 1e-12 });
    expect(relErr(viaBdf.theta, exact.theta)).toBeLessThan(1e-5);
  });
});

describe('flat dynamics: fused MLP kernels agree with the tensor path', () => {
  const spiralModel = (seed: number) => {
    const model = new SpiralDynamics({ rng: new Rng(seed), weightStd: 0.4 }).finalize();
    // Non-zero biases, so that every parameter's cotangent is exercised.
    const theta = model.parameters;
    const rng = new Rng(seed + 100);
    for (let i = 0; i < theta.length; i++) if (theta[i] === 0) theta[i] = 0.2 * rng.normal();
    return model;
  };
  /** The same network as a plain function of tensors: odeint differentiates it with autograd. */
  const tensorPath = (model: SpiralDynamics) => (_t: Tensor, y: Tensor) => model.forward(y);

  it('evaluate and vjp equal forward and autograd to 1e-13 (spiral: y³, tanh, identity)', () => {
    const model = spiralModel(3);
    const shape = [5, 2];
    const field = model.flatDynamics(shape) as FlatDynamics;
    expect(field).not.toBeNull();
    const y = batchState(5, 4);
    const v = batchState(5, 5);
    const dydt = new Float64Array(10);
    field.evaluate(0, y, dydt);
    const yLeaf = new Tensor(Float64Array.from(y), shape, true);
    const out = enableGrad(() => model.forward(yLeaf));
    expect(relErr(dydt, out.data)).toBeLessThan(1e-14);
    const inputs = [yLeaf, ...model.parameterTensors()];
    const grads = gradients(out, inputs, new Tensor(v, shape));
    const yBar = new Float64Array(10).fill(1);
    const thetaBar = new Float64Array(model.numParameters).fill(-2);
    const value = new Float64Array(10);
    expect(field.vjp(0, y, v, yBar, thetaBar, value)).toBe(0);
    expect(relErr(value, out.data)).toBeLessThan(1e-14);
    // vjp adds into yBar and thetaBar.
    expect(
      relErr(
        yBar.map((x) => x - 1),
        grads[0].data,
      ),
    ).toBeLessThan(1e-13);
    const expected = concat(
      grads.slice(1).map((g) => g.reshape([g.size])),
      0,
    ).data;
    expect(
      relErr(
        thetaBar.map((x) => x + 2),
        expected,
      ),
    ).toBeLessThan(1e-13);
  });

  it('a deeper MLP (tanh, sigmoid, identity; a layer without bias) matches autograd', () => {
    const rng = new Rng(9);
    const l1 = new Linear(3, 7, { rng });
    const l2 = new Linear(7, 4, { rng, bias: false });
    const l3 = new Linear(4, 3, { rng });
    const net = new Sequential(l1, new Tanh(), l2, new Sigmoid(), l3).finalize();
    const shape = [2, 2, 3];
    const field = new MlpField({
      shape,
      parameters: net.parameterTensors(),
      layers: [
        { weight: l1.weight, bias: l1.bias, activation: 'tanh' },
        { weight: l2.weight, bias: null, activation: 'sigmoid' },
        { weight: l3.weight, bias: l3.bias, activation: 'identity' },
      ],
    });
    const y = batchState(6, 1);
    const v = batchState(6, 2);
    const yLeaf = new Tensor(Float64Array.from(y), shape, true);
    const out = enableGrad(() => net.forward(yLeaf));
    const grads = gradients(out, [yLeaf, ...net.parameterTensors()], new Tensor(v, shape));
    const yBar = new Float64Array(12);
    const thetaBar = new Float64Array(net.numParameters);
    const value = new Float64Array(12);
    field.vjp(0, y, v, yBar, thetaBar, value);
    expect(relErr(value, out.data)).toBeLessThan(1e-14);
    expect(relErr(yBar, grads[0].data)).toBeLessThan(1e-13);
    const expected = concat(
      grads.slice(1).map((g) => g.reshape([g.size])),
      0,
    ).data;
    expect(relErr(thetaBar, expected)).toBeLessThan(1e-13);
  });

  it.each(['tanh', 'sigmoid', 'identity'] as const)(
    'planar %s layers without biases, with and without parameter cotangents, match autograd',
    (activation) => {
      const rng = new Rng(5);
      const l1 = new Linear(2, 6, { rng, bias: false });
      const l2 = new Linear(6, 2, { rng, bias: false });
      const net =
        activation === 'identity'
          ? new Sequential(l1, l2).finalize()
          : new Sequential(l1, activation === 'tanh' ? new Tanh() : new Sigmoid(), l2).finalize();
      const shape = [3, 2];
      const field = new MlpField({
        shape,
        parameters: net.parameterTensors(),
        inputPower: 2,
        layers: [
          { weight: l1.weight, bias: null, activation },
          { weight: l2.weight, bias: null, activation: 'identity' },
        ],
      });
      const y = batchState(3, 6);
      const v = batchState(3, 7);
      const yLeaf = new Tensor(Float64Array.from(y), shape, true);
      const out = enableGrad(() => net.forward(mul(yLeaf, yLeaf)));
      const grads = gradients(out, [yLeaf, ...net.parameterTensors()], new Tensor(v, shape));
      const yBarOnly = new Float64Array(6);
      field.vjp(0, y, v, yBarOnly, null, null);
      expect(relErr(yBarOnly, grads[0].data)).toBeLessThan(1e-13);
      const yBar = new Float64Array(6);
      const thetaBar = new Float64Array(net.numParameters);
      field.vjp(0, y, v, yBar, thetaBar, null);
      expect(relErr(yBar, grads[0].data)).toBeLessThan(1e-13);
      const expected = concat(
        grads.slice(1).map((g) => g.reshape([g.size])),
        0,
      ).data;
      expect(relErr(thetaBar, expected)).toBeLessThan(1e-13);
    },
  );

  const options = { method: 'dopri5', rtol: 1e-8, atol: 1e-10 } as const;
  const times = [0, 0.1, 0.25, 0.4];
  const spiralGradients = (
    model: SpiralDynamics,
    y0: Float64Array,
    gradient: GradientMode,
    flat: boolean,
  ): { y: Float64Array; theta: Float64Array; loss: number; stats: OdeStats } => {
    model.zeroGrad();
    const y = new Tensor(Float64Array.from(y0), [4, 2], true);
    const stats = createOdeStats();
    const out = flat
      ? odeint(model, y, times, { ...options, gradient, stats })
      : odeint(tensorPath(model), y, times, {
          ...options,
          gradient,
          stats,
          params: model.parameterTensors(),
        });
    const w = new Tensor(
      Float64Array.from({ length: out.size }, (_, i) => Math.sin(i + 1)),
      out.shape,
    );
    const loss = sum(mul(w, mul(out, out)));
    backward(loss);
    return {
      y: Float64Array.from(y.grad?.data ?? []),
      theta: Float64Array.from(model.gradients),
      loss: loss.item(),
      stats,
    };
  };

  for (const gradient of ['direct', 'checkpoint', 'adjoint'] as GradientMode[]) {
    it(`${gradient}: odeint through the kernels equals the tensor path to 1e-11`, () => {
      const model = spiralModel(11);
      const y0 = batchState(4, 12);
      const fast = spiralGradients(model, y0, gradient, true);
      const slow = spiralGradients(model, y0, gradient, false);
      expect(fast.stats.forward.nfe).toBe(slow.stats.forward.nfe);
      expect(Math.abs(fast.loss - slow.loss)).toBeLessThan(1e-12 * Math.abs(slow.loss));
      expect(relErr(fast.y, slow.y)).toBeLessThan(1e-11);
      expect(relErr(fast.theta, slow.theta)).toBeLessThan(1e-11);
      if (gradient === 'direct') {
        // Every accepted step found the hidden and output activations (4 rows × (50 + 2)) of its 7 dopri5
        // stages among the forward solve's evaluations, so no VJP evaluated f again.
        const extra = fast.stats.storedFloats - slow.stats.storedFloats;
        expect(extra).toBe(fast.stats.forward.naccept * 7 * 4 * 52);
      }
    });
  }

  it('many solves recorded before one backward: the same gradient as the tensor path', () => {
    // More solves than reusable buffers for saved intermediates: the earliest ones evaluate f again.
    const model = spiralModel(31);
    const run = (flat: boolean) => {
      model.zeroGrad();
      let total: Tensor | null = null;
      for (let k = 0; k < 7; k++) {
        const y = new Tensor(batchState(3, 40 + k), [3, 2]);
        const out = flat
          ? odeint(model, y, times, options)
          : odeint(tensorPath(model), y, times, { ...options, params: model.parameterTensors() });
        const term = sum(mul(out, out));
        total = total === null ? term : add(total, term);
      }
      backward(total as Tensor);
      return Float64Array.from(model.gradients);
    };
    expect(relErr(run(true), run(false))).toBeLessThan(1e-11);
  });

  it('direct gradients through the kernels match central finite differences', () => {
    const model = spiralModel(21);
    const y0 = batchState(4, 22);
    const g = spiralGradients(model, y0, 'direct', true);
    const theta = model.parameters;
    const lossAt = () =>
      noGrad(() => {
        const out = odeint(model, new Tensor(Float64Array.from(y0), [4, 2]), times, options);
        let s = 0;
        for (let i = 0; i < out.size; i++) s += Math.sin(i + 1) * out.data[i] ** 2;
        return s;
      });
    const h = 1e-6;
    for (const k of [0, 7, 63, 100, 149, 200, 251]) {
      const keep = theta[k];
      theta[k] = keep + h;
      const up = lossAt();
      theta[k] = keep - h;
      const down = lossAt();
      theta[k] = keep;
      const fd = (up - down) / (2 * h);
      expect(Math.abs(g.theta[k] - fd)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
    }
  });

  it('reports non-finite derivatives and mismatched layers with the argument named', () => {
    const model = spiralModel(1);
    model.parameters[0] = Number.NaN;
    const y = new Tensor(Float64Array.of(1, 0.5), [1, 2]);
    expect(() => noGrad(() => odeint(model, y, [0, 1]))).toThrow(
      /func: at t = 0 the dynamics returned NaN at flat index 0/,
    );
    const rng = new Rng(0);
    const a = new Linear(2, 5, { rng });
    const b = new Linear(4, 2, { rng });
    const params = [...a.parameterTensors(), ...b.parameterTensors()];
    const layers = [
      { weight: a.weight, bias: a.bias, activation: 'tanh' as const },
      { weight: b.weight, bias: b.bias, activation: 'identity' as const },
    ];
    expect(() => new MlpField({ shape: [3, 2], parameters: params, layers })).toThrow(
      /layers\[1\]\.weight.*\[2, 4\].*\[out, 5\]/,
    );
    const other = new Linear(5, 2, { rng });
    expect(
      () =>
        new MlpField({
          shape: [3, 2],
          parameters: params,
          layers: [layers[0], { weight: other.weight, bias: other.bias, activation: 'identity' }],
        }),
    ).toThrow(/layers\[1\]\.weight: is not one of the parameters/);
  });
});
