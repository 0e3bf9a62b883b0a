import { describe, expect, it } from 'vitest';
import { backward, enableGrad, gradients, noGrad } from '../src/autograd/index.js';
import { Linear, Sequential, Tanh } from '../src/nn/index.js';
import { Rng } from '../src/random/index.js';
import {
  createOdeStats,
  type GradientMode,
  type OdeintOptions,
  type OdeStats,
  odeint,
  SensitivityError,
} from '../src/sensitivity/index.js';
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
