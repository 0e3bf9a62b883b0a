import { describe, expect, it } from 'vitest';
import {
  Adam,
  AdamW,
  ConstantSchedule,
  CosineSchedule,
  clipGradNorm,
  decodeFloat64Base64,
  ExponentialSchedule,
  encodeFloat64Base64,
  type Optimizer,
  ParameterAverage,
  Rmsprop,
  Sgd,
  StepSchedule,
} from '../src/optim/index.js';
import { Rng } from '../src/random/index.js';

const f64 = (...xs: number[]) => Float64Array.from(xs);

function randomVector(rng: Rng, n: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * rng.normal();
  return out;
}

describe('Sgd', () => {
  it('plain step is theta - lr * (grad + wd * theta)', () => {
    const opt = new Sgd(2, { lr: 0.1, weightDecay: 0.5 });
    const theta = f64(1, -2);
    opt.step(theta, f64(0.3, 0.4));
    expect(theta[0]).toBeCloseTo(1 - 0.1 * (0.3 + 0.5 * 1), 15);
    expect(theta[1]).toBeCloseTo(-2 - 0.1 * (0.4 + 0.5 * -2), 15);
  });

  it('momentum: the first buffer is the gradient, later ones accumulate (hand-computed)', () => {
    // One coordinate, gradients 1, 2, 3, lr 0.1, momentum 0.9, dampening 0.5.
    // b1 = 1, b2 = 0.9*1 + 0.5*2 = 1.9, b3 = 0.9*1.9 + 0.5*3 = 3.21; theta = 0 - 0.1*(1 + 1.9 + 3.21) = -0.611.
    const opt = new Sgd(1, { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    const theta = f64(0);
    for (const g of [1, 2, 3]) opt.step(theta, f64(g));
    expect(theta[0]).toBeCloseTo(-0.611, 14);
  });

  it('nesterov: d = g + momentum * b (hand-computed)', () => {
    // gradients 1, 2: b1 = 1, d1 = 1 + 0.9 = 1.9; b2 = 0.9 + 2 = 2.9, d2 = 2 + 0.9*2.9 = 4.61.
    const opt = new Sgd(1, { lr: 0.1, momentum: 0.9, nesterov: true });
    const theta = f64(1);
    opt.step(theta, f64(1));
    expect(theta[0]).toBeCloseTo(1 - 0.19, 15);
    opt.step(theta, f64(2));
    expect(theta[0]).toBeCloseTo(1 - 0.19 - 0.461, 14);
  });

  it('rejects nesterov without momentum and unknown options', () => {
    expect(() => new Sgd(1, { lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum/);
    expect(() => new Sgd(1, { lr: 0.1, momentun: 0.9 } as never)).toThrow(/unknown option 'momentun'/);
    expect(() => new Sgd(1, {} as never)).toThrow(/lr must be/);
    expect(() => new Sgd(1, { lr: -1 })).toThrow(/lr must be >= 0/);
  });
});

describe('Rmsprop (PyTorch semantics)', () => {
  it('first step with defaults moves lr * g / (0.1 |g| + 1e-8), i.e. about 10 lr', () => {
    const opt = new Rmsprop(2, { lr: 0.01 });
    const theta = f64(0, 0);
    opt.step(theta, f64(1, -4));
    expect(theta[0]).toBeCloseTo(-0.01 / (0.1 + 1e-8), 14);
    expect(theta[1]).toBeCloseTo((0.01 * 4) / (0.4 + 1e-8), 14);
  });

  it('centered + momentum + weight decay matches the formulas step by step', () => {
    const rng = new Rng(3);
    const n = 5;
    const opt = new Rmsprop(n, {
      lr: 0.02,
      alpha: 0.9,
      eps: 1e-6,
      momentum: 0.5,
      centered: true,
      weightDecay: 0.1,
    });
    const theta = randomVector(rng, n);
    const ref = theta.slice();
    const s = new Float64Array(n);
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    for (let k = 0; k < 4; k++) {
      const grad = randomVector(rng, n);
      opt.step(theta, grad);
      for (let i = 0; i < n; i++) {
        const g = grad[i] + 0.1 * ref[i];
        s[i] = 0.9 * s[i] + 0.1 * g * g;
        a[i] = 0.9 * a[i] + 0.1 * g;
        b[i] = 0.5 * b[i] + g / (Math.sqrt(s[i] - a[i] * a[i]) + 1e-6);
        ref[i] -= 0.02 * b[i];
      }
    }
    for (let i = 0; i < n; i++) expect(theta[i]).toBeCloseTo(ref[i], 13);
  });
});

describe('Adam and AdamW', () => {
  it('with a constant gradient every step moves exactly lr * g / (|g| + eps) (bias correction)', () => {
    // m_t = (1 - b1^t) g and v_t = (1 - b2^t) g², so the corrected ratio is g / (|g| + eps) at every t.
    const opt = new Adam(2, { lr: 0.1 });
    const theta = f64(0, 0);
    for (let k = 1; k <= 3; k++) {
      opt.step(theta, f64(2, -0.5));
      expect(theta[0]).toBeCloseTo((-k * 0.1 * 2) / (2 + 1e-8), 13);
      expect(theta[1]).toBeCloseTo((k * 0.1 * 0.5) / (0.5 + 1e-8), 13);
    }
  });

  it('two steps by hand: gradients 1 then 3 (beta1 0.9, beta2 0.999, lr 0.01)', () => {
    // t=1: m = 0.1, v = 0.001; m̂ = 1, v̂ = 1 → Δ = 0.01 / (1 + 1e-8).
    // t=2: m = 0.09 + 0.3 = 0.39, v = 0.000999 + 0.009 = 0.009999; m̂ = 0.39/0.19, v̂ = 0.009999/0.001999.
    const opt = new Adam(1, { lr: 0.01 });
    const theta = f64(0);
    opt.step(theta, f64(1));
    opt.step(theta, f64(3));
    const step2 = (0.01 * (0.39 / 0.19)) / (Math.sqrt(0.009999 / 0.001999) + 1e-8);
    expect(theta[0]).toBeCloseTo(-0.01 / (1 + 1e-8) - step2, 14);
  });

  it('Adam weight decay is L2 in the gradient; AdamW decays theta directly', () => {
    const g = f64(0);
    const adam = new Adam(1, { lr: 0.1, weightDecay: 0.5 });
    const a = f64(2);
    adam.step(a, g);
    // g_eff = 0.5*2 = 1 → Adam step of ≈ lr.
    expect(a[0]).toBeCloseTo(2 - 0.1 / (1 + 1e-8), 14);
    const adamw = new AdamW(1, { lr: 0.1, weightDecay: 0.5 });
    const w = f64(2);
    adamw.step(w, g);
    // zero gradient: only the decoupled decay θ(1 - lr·wd) acts.
    expect(w[0]).toBeCloseTo(2 * (1 - 0.05), 15);
    expect(adamw.kind).toBe('adamw');
    expect(new AdamW(1).weightDecay).toBe(0.01);
  });

  it('amsgrad uses the running maximum of the second moment', () => {
    const rng = new Rng(8);
    const n = 4;
    const opt = new Adam(n, { lr: 0.05, amsgrad: true, beta1: 0.8, beta2: 0.9 });
    const theta = randomVector(rng, n);
    const ref = theta.slice();
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    const vmax = new Float64Array(n);
    for (let t = 1; t <= 5; t++) {
      const grad = randomVector(rng, n, 3 / t);
      opt.step(theta, grad);
      for (let i = 0; i < n; i++) {
        m[i] = 0.8 * m[i] + 0.2 * grad[i];
        v[i] = 0.9 * v[i] + 0.1 * grad[i] ** 2;
        vmax[i] = Math.max(vmax[i], v[i]);
        const mHat = m[i] / (1 - 0.8 ** t);
        ref[i] -= (0.05 * mHat) / (Math.sqrt(vmax[i] / (1 - 0.9 ** t)) + 1e-8);
      }
    }
    for (let i = 0; i < n; i++) expect(theta[i]).toBeCloseTo(ref[i], 12);
  });
});

describe('convergence on an ill-conditioned quadratic', () => {
  // f(x) = ½ Σ a_i (x_i − c_i)², minimum at c.
  const a = f64(1, 10, 0.3, 4);
  const c = f64(1, -2, 0.5, 3);
  const run = (opt: Optimizer, iters: number): number => {
    const x = new Float64Array(4);
    const g = new Float64Array(4);
    for (let k = 0; k < iters; k++) {
      for (let i = 0; i < 4; i++) g[i] = a[i] * (x[i] - c[i]);
      opt.step(x, g);
    }
    let err = 0;
    for (let i = 0; i < 4; i++) err = Math.max(err, Math.abs(x[i] - c[i]));
    return err;
  };
  it.each([
    ['sgd', () => new Sgd(4, { lr: 0.09 }), 2000],
    ['sgd momentum', () => new Sgd(4, { lr: 0.05, momentum: 0.9 }), 1000],
    ['sgd nesterov', () => new Sgd(4, { lr: 0.05, momentum: 0.9, nesterov: true }), 1000],
    ['rmsprop', () => new Rmsprop(4, { lr: new ExponentialSchedule({ initial: 0.05, gamma: 0.998 }) }), 5000],
    [
      'adam',
      () => new Adam(4, { lr: new CosineSchedule({ initial: 0.1, totalSteps: 3000, warmupSteps: 20 }) }),
      3000,
    ],
    [
      'adamw',
      () => new AdamW(4, { lr: new CosineSchedule({ initial: 0.1, totalSteps: 3000 }), weightDecay: 0 }),
      3000,
    ],
  ] as const)('%s reaches the minimum', (_name, make, iters) => {
    expect(run(make(), iters)).toBeLessThan(1e-4);
  });
});

describe('state save/restore', () => {
  const makers: [string, () => Optimizer][] = [
    ['sgd', () => new Sgd(6, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
    ['rmsprop', () => new Rmsprop(6, { lr: 0.01, momentum: 0.3, centered: true })],
    ['adam', () => new Adam(6, { lr: 0.01, amsgrad: true })],
    ['adamw', () => new AdamW(6, { lr: new StepSchedule({ initial: 0.02, stepSize: 3, gamma: 0.5 }) })],
  ];
  it.each(makers)('%s: a restored optimizer continues bit for bit', (_name, make) => {
    const rng = new Rng(11);
    const grads = Array.from({ length: 10 }, () => randomVector(rng, 6));
    const a = make();
    const theta = randomVector(rng, 6);
    for (let k = 0; k < 5; k++) a.step(theta, grads[k]);
    const saved = JSON.parse(JSON.stringify(a.stateDict()));
    const b = make();
    b.loadStateDict(saved);
    expect(b.stepCount).toBe(5);
    expect(b.learningRate()).toBe(a.learningRate());
    const thetaB = theta.slice();
    for (let k = 5; k < 10; k++) {
      a.step(theta, grads[k]);
      b.step(thetaB, grads[k]);
    }
    expect(Array.from(thetaB)).toEqual(Array.from(theta));
    expect(b.stateDict()).toEqual(a.stateDict());
  });

  it('refuses a state of another kind, size or option set, leaving the optimizer unchanged', () => {
    const adam = new Adam(3);
    const theta = f64(1, 2, 3);
    adam.step(theta, f64(1, 1, 1));
    const before = adam.stateDict();
    const catchCode = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return [(e as { code: string }).code, (e as Error).message];
      }
      return null;
    };
    expect(catchCode(() => adam.loadStateDict(new Sgd(3, { lr: 1 }).stateDict()))).toEqual([
      'invalidState',
      expect.stringMatching(/'sgd' optimizer, not 'adam'/),
    ]);
    expect(catchCode(() => adam.loadStateDict(new Adam(4).stateDict()))?.[1]).toMatch(/4 parameters.*has 3/);
    expect(catchCode(() => adam.loadStateDict(new Adam(3, { amsgrad: true }).stateDict()))?.[1]).toMatch(
      /buffers \[firstMoment, maxSecondMoment, secondMoment\]/,
    );
    const truncated = {
      ...before,
      buffers: { ...before.buffers, secondMoment: encodeFloat64Base64(f64(1, 2)) },
    };
    expect(catchCode(() => adam.loadStateDict(truncated))?.[1]).toMatch(
      /'secondMoment' holds 2 float64 values/,
    );
    expect(catchCode(() => adam.loadStateDict({ ...before, step: -1 }))?.[1]).toMatch(/step must be/);
    expect(catchCode(() => adam.loadStateDict(null))?.[0]).toBe('invalidState');
    expect(adam.stateDict()).toEqual(before);
  });

  it('base64 buffers keep every bit pattern', () => {
    const values = f64(-0, Number.NaN, Number.POSITIVE_INFINITY, 5e-324, 0.1, -1.7976931348623157e308);
    const out = new Float64Array(values.length);
    expect(decodeFloat64Base64(encodeFloat64Base64(values), out)).toBeNull();
    expect(new Uint8Array(out.buffer)).toEqual(new Uint8Array(values.buffer));
    expect(decodeFloat64Base64('@@@', out)).toBe('not valid base64');
  });
});

describe('step validation', () => {
  it('a non-finite gradient is refused and changes neither theta nor the state', () => {
    const opt = new Adam(3, { lr: 0.1 });
    const theta = f64(1, 2, 3);
    opt.step(theta, f64(1, 1, 1));
    const thetaBefore = theta.slice();
    const stateBefore = opt.stateDict();
    expect(() => opt.step(theta, f64(1, Number.NaN, 1))).toThrow(
      expect.objectContaining({
        code: 'nonFiniteGradient',
        message: expect.stringMatching(/gradient\[1\] is NaN/),
      }),
    );
    expect(() => opt.step(theta, f64(1, 1, Number.NEGATIVE_INFINITY))).toThrow(/gradient\[2\] is -Infinity/);
    expect(theta).toEqual(thetaBefore);
    expect(opt.stateDict()).toEqual(stateBefore);
  });

  it('refuses vectors of the wrong length', () => {
    const opt = new Sgd(3, { lr: 0.1 });
    expect(() => opt.step(new Float64Array(3), new Float64Array(2))).toThrow(
      expect.objectContaining({ code: 'sizeMismatch' }),
    );
  });
});

describe('clipGradNorm', () => {
  it('returns the norm and rescales only when it exceeds maxNorm', () => {
    const g = f64(3, 4);
    expect(clipGradNorm(g, 10)).toBe(5);
    expect(Array.from(g)).toEqual([3, 4]);
    expect(clipGradNorm(g, 1)).toBe(5);
    expect(g[0]).toBeCloseTo(3 / (5 + 1e-6), 15);
    expect(g[1]).toBeCloseTo(4 / (5 + 1e-6), 15);
  });

  it('does not overflow for huge entries and refuses non-finite ones', () => {
    const g = f64(3e200, 4e200);
    expect(clipGradNorm(g, 1) / 5e200).toBeCloseTo(1, 14);
    expect(Math.hypot(g[0], g[1])).toBeCloseTo(1, 10);
    const bad = f64(1, Number.POSITIVE_INFINITY);
    expect(() => clipGradNorm(bad, 1)).toThrow(expect.objectContaining({ code: 'nonFiniteGradient' }));
    expect(bad[0]).toBe(1);
    expect(() => clipGradNorm(f64(1), 0)).toThrow(/maxNorm must be/);
  });
});

describe('learning-rate schedules', () => {
  it('step, exponential and constant', () => {
    const s = new StepSchedule({ initial: 1, stepSize: 3, gamma: 0.5 });
    expect([0, 1, 2, 3, 5, 6, 9].map((k) => s.rate(k))).toEqual([1, 1, 1, 0.5, 0.5, 0.25, 0.125]);
    const e = new ExponentialSchedule({ initial: 2, gamma: 0.9 });
    expect(e.rate(0)).toBe(2);
    expect(e.rate(3)).toBeCloseTo(2 * 0.729, 15);
    expect(new ConstantSchedule(0.3).rate(1000)).toBe(0.3);
  });

  it('cosine with warmup: linear ramp, half-way value, minimum at and after the end', () => {
    const c = new CosineSchedule({ initial: 1, minimum: 0.1, totalSteps: 14, warmupSteps: 4 });
    expect([0, 1, 2, 3].map((k) => c.rate(k))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(c.rate(4)).toBe(1);
    expect(c.rate(9)).toBeCloseTo(0.55, 15); // half-way: min + (max − min)/2
    expect(c.rate(14)).toBeCloseTo(0.1, 15);
    expect(c.rate(100)).toBeCloseTo(0.1, 15);
    expect(() => new CosineSchedule({ initial: 1, totalSteps: 4, warmupSteps: 4 })).toThrow(/warmupSteps/);
  });

  it('the optimizer consults the schedule with its step count', () => {
    const opt = new Sgd(1, { lr: new StepSchedule({ initial: 1, stepSize: 2, gamma: 0.1 }) });
    const theta = f64(0);
    const seen: number[] = [];
    for (let k = 0; k < 4; k++) {
      seen.push(opt.learningRate());
      opt.step(theta, f64(1));
    }
    expect(seen).toEqual([1, 1, 0.1, 0.1].map((x, i) => (i < 2 ? x : expect.closeTo(x, 15))));
    expect(theta[0]).toBeCloseTo(-2.2, 14);
  });
});

describe('ParameterAverage', () => {
  it('copies the first iterate, then averages exponentially with a decay that grows to the set one', () => {
    const avg = new ParameterAverage(2, 0.5);
    avg.update(Float64Array.from([4, -2]), 0);
    expect(Array.from(avg.values)).toEqual([4, -2]);
    // t = 1: decay min(0.5, 1/11) = 1/11.
    avg.update(Float64Array.from([15, 9]), 1);
    expect(avg.values[0]).toBeCloseTo(4 / 11 + (15 * 10) / 11, 12);
    // From t = 10 on the decay is the set 0.5.
    avg.values.set([0, 0]);
    avg.update(Float64Array.from([2, 2]), 10);
    expect(Array.from(avg.values)).toEqual([1, 1]);
  });

  it('smooths a noisy sequence: the average of iterates around a point is closer to it than they are', () => {
    const rng = new Rng(3);
    const avg = new ParameterAverage(1, 0.99);
    let worst = 0;
    for (let t = 0; t < 2000; t++) {
      const x = 1 + rng.normal();
      avg.update(Float64Array.of(x), t);
      if (t > 1000) worst = Math.max(worst, Math.abs(avg.values[0] - 1));
    }
    expect(worst).toBeLessThan(0.4);
  });

  it('refuses a bad decay or a parameter vector of the wrong length', () => {
    expect(() => new ParameterAverage(2, 1)).toThrow(/decay must be in \[0, 1\)/);
    expect(() => new ParameterAverage(2, 0.9).update(new Float64Array(3), 0)).toThrow(/length 3, expected 2/);
  });
});
