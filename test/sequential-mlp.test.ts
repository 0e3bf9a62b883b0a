import { describe, expect, it } from 'vitest';
import { backward, noGrad } from '../src/autograd/index.js';
import { ConcatLinear, Elu, Linear, type Module, Sequential, Sigmoid, Tanh } from '../src/nn/index.js';
import { Rng } from '../src/random/index.js';
import { GrowableBuffer } from '../src/sensitivity/growable.js';
import {
  createOdeStats,
  type GradientMode,
  type OdeFunction,
  type OdeStats,
  odeint,
} from '../src/sensitivity/index.js';
import { mlpFieldFor } from '../src/sensitivity/sequential-mlp.js';
import { mul, sum, Tensor } from '../src/tensor/index.js';

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-300);
}

function state(length: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length }, () => rng.normal());
}

/** 2 → 16 (tanh) → 8 without bias (sigmoid) → 2. */
function deepMlp(seed: number): Sequential {
  const rng = new Rng(seed);
  return new Sequential(
    new Linear(2, 16, { rng }),
    new Tanh(),
    new Linear(16, 8, { rng, bias: false }),
    new Sigmoid(),
    new Linear(8, 2, { rng }),
  ).finalize();
}

const options = { method: 'dopri5', rtol: 1e-8, atol: 1e-10 } as const;
const times = [0, 0.2, 0.5, 0.8];

/** L = Σ sin(i+1)·out_i², with its gradients with respect to y0 and the module's parameters. */
function run(
  model: Module,
  y0: Float64Array,
  shape: number[],
  gradient: GradientMode,
  flatKernels: boolean,
): { loss: number; out: Float64Array; y: Float64Array; theta: Float64Array; stats: OdeStats } {
  model.zeroGrad();
  const y = new Tensor(Float64Array.from(y0), shape, true);
  const stats = createOdeStats();
  const out = odeint(model as OdeFunction, y, times, { ...options, gradient, stats, flatKernels });
  const w = new Tensor(
    Float64Array.from({ length: out.size }, (_, i) => Math.sin(i + 1)),
    out.shape,
  );
  const loss = sum(mul(w, mul(out, out)));
  backward(loss);
  return {
    loss: loss.item(),
    out: Float64Array.from(out.data),
    y: Float64Array.from(y.grad?.data ?? []),
    theta: Float64Array.from(model.gradients),
    stats,
  };
}

describe('odeint on a plain Sequential MLP uses the fused MLP kernels', () => {
  it('recognises Linear layers with tanh/sigmoid/no activation, with and without bias', () => {
    expect(mlpFieldFor(deepMlp(1), [5, 2])).not.toBeNull();
    expect(mlpFieldFor(deepMlp(1), [2])).not.toBeNull();
    const rng = new Rng(2);
    const linearOnly = new Sequential(new Linear(3, 3, { rng, bias: false })).finalize();
    expect(mlpFieldFor(linearOnly, [4, 3])).not.toBeNull();
    const nested = new Sequential(
      new Sequential(new Linear(2, 4, { rng }), new Tanh()),
      new Linear(4, 2, { rng }),
    ).finalize();
    expect(mlpFieldFor(nested, [2])).not.toBeNull();
    // The last layer must map back to the state's last dimension, and a scalar state has none.
    expect(mlpFieldFor(deepMlp(1), [5, 3])).toBeNull();
    expect(mlpFieldFor(linearOnly, [])).toBeNull();
  });

  for (const gradient of ['direct', 'checkpoint', 'adjoint'] as GradientMode[]) {
    it(`${gradient}: values and gradients (y0, θ) equal the tensor path to 1e-11`, () => {
      const model = deepMlp(3);
      const y0 = state(10, 4);
      const fast = run(model, y0, [5, 2], gradient, true);
      const slow = run(model, y0, [5, 2], gradient, false);
      expect(fast.stats.forward.nfe).toBe(slow.stats.forward.nfe);
      expect(relErr(fast.out, slow.out)).toBeLessThan(1e-12);
      expect(Math.abs(fast.loss - slow.loss)).toBeLessThan(1e-12 * Math.abs(slow.loss));
      expect(relErr(fast.y, slow.y)).toBeLessThan(1e-11);
      expect(relErr(fast.theta, slow.theta)).toBeLessThan(1e-11);
      expect(slow.theta.some((g) => g !== 0)).toBe(true);
      if (gradient === 'direct') {
        // The kernels keep each stage's hidden and output activations for the backward pass; the tensor
        // path keeps none, so the flat path shows in the stored floats.
        expect(fast.stats.storedFloats).toBeGreaterThan(slow.stats.storedFloats);
      }
    });
  }

  it('direct over more steps than the first buffers hold (rk4, 200 steps) equals the tensor path', () => {
    const model = deepMlp(17);
    const y0 = state(6, 18);
    const grad = (flatKernels: boolean) => {
      model.zeroGrad();
      const y = new Tensor(Float64Array.from(y0), [3, 2], true);
      const out = odeint(model, y, [0, 1, 2], { method: 'rk4', step: 0.01, flatKernels });
      backward(sum(mul(out, out)));
      return { y: Float64Array.from(y.grad?.data ?? []), theta: Float64Array.from(model.gradients) };
    };
    const fast = grad(true);
    const slow = grad(false);
    expect(relErr(fast.y, slow.y)).toBeLessThan(1e-11);
    expect(relErr(fast.theta, slow.theta)).toBeLessThan(1e-11);
  });

  it('GrowableBuffer.push keeps values written across reallocations', () => {
    const b = new GrowableBuffer(4);
    for (let i = 0; i < 100; i++) b.push(i + 1);
    expect(b.length).toBe(100);
    expect(Array.from(b.data.subarray(0, 100))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('a one-dimensional state [in] gives the tensor path gradient', () => {
    const model = deepMlp(5);
    const y0 = state(2, 6);
    const fast = run(model, y0, [2], 'adjoint', true);
    const slow = run(model, y0, [2], 'adjoint', false);
    expect(relErr(fast.out, slow.out)).toBeLessThan(1e-12);
    expect(relErr(fast.y, slow.y)).toBeLessThan(1e-11);
    expect(relErr(fast.theta, slow.theta)).toBeLessThan(1e-11);
  });

  it('adjoint gradients through the kernels match central finite differences', () => {
    const model = deepMlp(7);
    const y0 = state(6, 8);
    const tight = { method: 'dopri5', rtol: 1e-11, atol: 1e-12 } as const;
    model.zeroGrad();
    const y = new Tensor(Float64Array.from(y0), [3, 2], true);
    const out = odeint(model, y, times, {
      ...tight,
      gradient: 'adjoint',
      adjointOptions: { method: 'dopri5', rtol: 1e-11, atol: 1e-12 },
    });
    const weights = Float64Array.from({ length: out.size }, (_, i) => Math.sin(i + 1));
    backward(sum(mul(new Tensor(weights, out.shape), mul(out, out))));
    const gTheta = Float64Array.from(model.gradients);
    const gY = Float64Array.from(y.grad?.data ?? []);
    const lossAt = (start: Float64Array) =>
      noGrad(() => {
        const o = odeint(model, new Tensor(start, [3, 2]), times, tight);
        let s = 0;
        for (let i = 0; i < o.size; i++) s += weights[i] * o.data[i] ** 2;
        return s;
      });
    const h = 1e-6;
    const theta = model.parameters;
    for (const k of [0, 5, 31, 40, 70, 150, 183, 185]) {
      const keep = theta[k];
      theta[k] = keep + h;
      const up = lossAt(y0);
      theta[k] = keep - h;
      const down = lossAt(y0);
      theta[k] = keep;
      const fd = (up - down) / (2 * h);
      expect(Math.abs(gTheta[k] - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
    for (let k = 0; k < y0.length; k++) {
      const up = Float64Array.from(y0);
      const down = Float64Array.from(y0);
      up[k] += h;
      down[k] -= h;
      const fd = (lossAt(up) - lossAt(down)) / (2 * h);
      expect(Math.abs(gY[k] - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });

  it('unsupported chains stay on the tensor path and still differentiate', () => {
    const rng = new Rng(11);
    class ScaledLinear extends Linear {
      override forward(x: Tensor): Tensor {
        return mul(super.forward(x), new Tensor(Float64Array.of(0.5), []));
      }
    }
    const chains: [string, Sequential][] = [
      ['elu', new Sequential(new Linear(2, 8, { rng }), new Elu(), new Linear(8, 2, { rng }))],
      [
        'time-dependent ConcatLinear',
        new Sequential(new ConcatLinear(2, 8, { rng }), new Tanh(), new Linear(8, 2, { rng })),
      ],
      ['leading activation', new Sequential(new Tanh(), new Linear(2, 2, { rng }))],
      [
        'two activations in a row',
        new Sequential(new Linear(2, 8, { rng }), new Tanh(), new Tanh(), new Linear(8, 2, { rng })),
      ],
      ['a Linear subclass', new Sequential(new ScaledLinear(2, 8, { rng }), new Linear(8, 2, { rng }))],
    ];
    for (const [label, chain] of chains) {
      chain.finalize();
      expect(mlpFieldFor(chain, [3, 2]), label).toBeNull();
      const y0 = state(6, 12);
      const a = run(chain, y0, [3, 2], 'direct', true);
      const b = run(chain, y0, [3, 2], 'direct', false);
      // Both calls take the same (tensor) path: identical results, and nothing saved for the kernels.
      expect(a.out, label).toEqual(b.out);
      expect(a.theta, label).toEqual(b.theta);
      expect(a.stats.storedFloats, label).toBe(b.stats.storedFloats);
      expect(
        a.theta.some((g) => g !== 0),
        label,
      ).toBe(true);
    }
  });

  it('the scaled Linear subclass is solved with its own forward', () => {
    // f(y) = 0.5·W y on a 1×1 state: y(t) = y0·exp(0.5·w·t).
    class HalfLinear extends Linear {
      override forward(x: Tensor): Tensor {
        return mul(super.forward(x), new Tensor(Float64Array.of(0.5), []));
      }
    }
    const layer = new HalfLinear(1, 1, { rng: new Rng(0), bias: false });
    const chain = new Sequential(layer).finalize();
    chain.parameters[0] = -0.8;
    const out = noGrad(() =>
      odeint(chain, new Tensor(Float64Array.of(1.5), [1]), [0, 1], { rtol: 1e-10, atol: 1e-12 }),
    );
    expect(Math.abs(out.data[1] - 1.5 * Math.exp(-0.4))).toBeLessThan(1e-8);
  });

  it('a chain whose output width differs from the state reports the shape from the tensor path', () => {
    const rng = new Rng(13);
    const chain = new Sequential(new Linear(2, 4, { rng }), new Tanh(), new Linear(4, 3, { rng })).finalize();
    expect(() => noGrad(() => odeint(chain, new Tensor(state(4, 1), [2, 2]), [0, 1]))).toThrow(
      /func: at t = 0 the dynamics returned shape \[2, 3\] for a state of shape \[2, 2\]/,
    );
  });

  it('checks options.flatKernels', () => {
    const model = deepMlp(1);
    const y0 = new Tensor(state(2, 1), [1, 2]);
    expect(() => odeint(model, y0, [0, 1], { flatKernels: 'no' as unknown as boolean })).toThrow(
      /options\.flatKernels: must be a boolean, got string/,
    );
    expect(() =>
      odeint(model, y0, [0, 1], { flatKernel: false } as unknown as Record<string, never>),
    ).toThrow(/options\.flatKernel: unknown option; known options: .*flatKernels/);
  });
});
