import { describe, expect, it } from 'vitest';
import { backward, noGrad } from '../src/autograd/index.js';
import { Linear, Module, Sequential, Tanh } from '../src/nn/index.js';
import { solveIvp } from '../src/ode/index.js';
import { Rng } from '../src/random/index.js';
import { createOdeStats, type GradientMode, type OdeintOptions, odeint } from '../src/sensitivity/index.js';
import { matmul, mul, sum, Tensor } from '../src/tensor/index.js';

// ---------- small dense linear algebra for the ground truth ----------

function matMul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k];
      for (let j = 0; j < m; j++) c[i * m + j] += aik * b[k * m + j];
    }
  return c;
}

/** exp(X) by scaling and squaring with a Taylor series (float64-accurate for the small matrices used here). */
function expm(x: Float64Array, m: number): Float64Array {
  let norm = 0;
  for (const v of x) norm = Math.max(norm, Math.abs(v));
  const squarings = Math.max(0, Math.ceil(Math.log2(norm * m)) + 4);
  const scaled = x.map((v) => v / 2 ** squarings);
  let result: Float64Array = new Float64Array(m * m);
  let term: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    result[i * m + i] = 1;
    term[i * m + i] = 1;
  }
  for (let k = 1; k <= 20; k++) {
    term = matMul(term, scaled, m).map((v) => v / k);
    result = result.map((v, i) => v + term[i]);
  }
  for (let s = 0; s < squarings; s++) result = matMul(result, result, m);
  return result;
}

function matVec(a: Float64Array, v: ArrayLike<number>, m: number, transposed = false): Float64Array {
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) out[i] += (transposed ? a[j * m + i] : a[i * m + j]) * v[j];
  return out;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-300);
}

const A_VALUES = Float64Array.of(-0.4, 1.1, -0.9, -0.2);
const Z0 = Float64Array.of(1.0, -0.5);
const TIMES = [0.3, 1.0, 1.8];
const W = [Float64Array.of(0, 0), Float64Array.of(0.7, -1.3), Float64Array.of(1.5, 0.4)];

/**
 * Analytic gradients of L = Σᵢ wᵢ·z(tᵢ) for z' = A z: ∂L/∂z0 = Σ e^{Aᵀτᵢ} wᵢ, ∂L/∂A from the Fréchet
 * derivative of exp (upper-right block of exp([[Aτ, Eτ], [0, Aτ]])), ∂L/∂tᵢ = wᵢ·A z(tᵢ), ∂L/∂t0 = −Σ ∂L/∂tᵢ.
 */
function linearTruth(times: number[]) {
  const m = 2;
  const zBar = new Float64Array(2);
  const aBar = new Float64Array(4);
  const tBar = new Float64Array(times.length);
  const outputs: Float64Array[] = [];
  for (let i = 0; i < times.length; i++) {
    const tau = times[i] - times[0];
    const e = expm(
      A_VALUES.map((v) => v * tau),
      m,
    );
    const z = matVec(e, Z0, m);
    outputs.push(z);
    if (i === 0) continue;
    const back = matVec(e, W[i], m, true);
    zBar[0] += back[0];
    zBar[1] += back[1];
    const az = matVec(A_VALUES, z, m);
    tBar[i] = W[i][0] * az[0] + W[i][1] * az[1];
    tBar[0] -= tBar[i];
    for (let k = 0; k < 4; k++) {
      const big = new Float64Array(16);
      for (let r = 0; r < 2; r++)
        for (let c = 0; c < 2; c++) {
          big[r * 4 + c] = A_VALUES[r * 2 + c] * tau;
          big[(r + 2) * 4 + c + 2] = A_VALUES[r * 2 + c] * tau;
        }
      big[Math.floor(k / 2) * 4 + 2 + (k % 2)] = tau;
      const eb = expm(big, 4);
      const frechet = Float64Array.of(eb[2], eb[3], eb[6], eb[7]);
      const dz = matVec(frechet, Z0, m);
      aBar[k] += W[i][0] * dz[0] + W[i][1] * dz[1];
    }
  }
  return { outputs, zBar, aBar, tBar };
}

/** The linear field as a tiny Module: dz/dt = A z on a state of shape [2]. */
class LinearField extends Module {
  readonly a: Tensor;
  constructor() {
    super();
    this.a = this.addParameter('a', [2, 2], (d) => d.set(A_VALUES), new Rng(0)).tensor;
    this.finalize();
  }
  get matrix(): Tensor {
    return this.parameterTensors()[0];
  }
  forward(y: Tensor): Tensor {
    return matmul(this.matrix, y.reshape([2, 1])).reshape([2]);
  }
}

function runLinear(gradient: GradientMode, times: number[], options: OdeintOptions) {
  const field = new LinearField();
  field.zeroGrad();
  const z0 = new Tensor(Float64Array.from(Z0), [2], true);
  const t = new Tensor(Float64Array.from(times), [times.length], true);
  const stats = createOdeStats();
  const out = odeint(field, z0, t, { ...options, gradient, stats });
  const w = new Tensor(Float64Array.from(W.flatMap((v) => Array.from(v))), [times.length, 2]);
  backward(sum(mul(out, w)));
  return {
    out,
    zBar: z0.grad?.data as Float64Array,
    aBar: Float64Array.from(field.gradients),
    tBar: t.grad?.data as Float64Array,
    stats,
  };
}

describe('odeint on a linear ODE (matrix exponential ground truth)', () => {
  const truth = linearTruth(TIMES);
  for (const gradient of ['direct', 'checkpoint'] as const) {
    it(`${gradient}: exact gradients of the discrete solve match analytic values to 1e-8`, () => {
      const r = runLinear(gradient, TIMES, { method: 'dopri8', rtol: 1e-13, atol: 1e-13 });
      expect(relErr(r.out.data.subarray(4, 6), truth.outputs[2])).toBeLessThan(1e-10);
      expect(relErr(r.zBar, truth.zBar)).toBeLessThan(1e-8);
      expect(relErr(r.aBar, truth.aBar)).toBeLessThan(1e-8);
      expect(relErr(r.tBar, truth.tBar)).toBeLessThan(1e-8);
      expect(r.stats.backward.nvjp).toBeGreaterThan(0);
    });
  }
  it('adjoint: gradients match analytic values to the tolerance scale', () => {
    const r = runLinear('adjoint', TIMES, {
      method: 'dopri5',
      rtol: 1e-10,
      atol: 1e-12,
      adjointOptions: { rtol: 1e-10, atol: 1e-12 },
    });
    expect(relErr(r.zBar, truth.zBar)).toBeLessThan(1e-7);
    expect(relErr(r.aBar, truth.aBar)).toBeLessThan(1e-7);
    expect(relErr(r.tBar, truth.tBar)).toBeLessThan(1e-7);
  });
  it('reversed time (decreasing t) gives the analytic gradients in every mode', () => {
    const rev = [1.2, 0.5, -0.4];
    const t2 = linearTruth(rev);
    for (const gradient of ['direct', 'checkpoint', 'adjoint'] as const) {
      const r = runLinear(gradient, rev, { method: 'dopri5', rtol: 1e-11, atol: 1e-12 });
      const tol = gradient === 'adjoint' ? 1e-6 : 1e-8;
      expect(relErr(r.zBar, t2.zBar)).toBeLessThan(tol);
      expect(relErr(r.aBar, t2.aBar)).toBeLessThan(tol);
      expect(relErr(r.tBar, t2.tBar)).toBeLessThan(tol);
    }
  });
});

// ---------- MLP dynamics against finite differences ----------

function mlp(seed: number): Sequential {
  const rng = new Rng(seed);
  return new Sequential(new Linear(2, 16, { rng }), new Tanh(), new Linear(16, 2, { rng })).finalize();
}

function mlpLoss(model: Sequential, y0: Float64Array, times: Float64Array, options: OdeintOptions): number {
  return noGrad(() => {
    const out = odeint(model, new Tensor(y0, [3, 2]), times, options);
    const d = out.data;
    let s = 0;
    for (let i = 0; i < d.length; i++) s += Math.sin(i + 1) * d[i] * d[i];
    return s;
  });
}

function mlpGradients(model: Sequential, y0: Float64Array, times: Float64Array, options: OdeintOptions) {
  model.zeroGrad();
  const y = new Tensor(Float64Array.from(y0), [3, 2], true);
  const t = new Tensor(Float64Array.from(times), [times.length], true);
  const out = odeint(model, y, t, options);
  const weights = new Tensor(
    Float64Array.from({ length: out.size }, (_, i) => Math.sin(i + 1)),
    out.shape,
  );
  backward(sum(mul(weights, mul(out, out))));
  return {
    y: Float64Array.from(y.grad?.data ?? []),
    theta: Float64Array.from(model.gradients),
    t: Float64Array.from(t.grad?.data ?? []),
  };
}

function central(fn: (delta: number) => number, h: number): number {
  return (fn(h) - fn(-h)) / (2 * h);
}

describe('odeint with an MLP dynamics (2→16→2 tanh, batch 3)', () => {
  const model = mlp(3);
  const y0 = Float64Array.of(0.5, -0.2, 1.0, 0.3, -0.7, 0.8);
  const times = Float64Array.of(0, 0.4, 1.1);
  const tight: OdeintOptions = { method: 'dopri5', rtol: 1e-10, atol: 1e-12 };
  const fd = (opts: OdeintOptions) => {
    const h = 1e-6;
    const yFd = Array.from(y0, (_, i) =>
      central((d) => {
        const y = Float64Array.from(y0);
        y[i] += d;
        return mlpLoss(model, y, times, opts);
      }, h),
    );
    const theta = model.parameters;
    const picks = [0, 7, 20, 33, 40, theta.length - 1];
    const thetaFd = picks.map((k) =>
      central((d) => {
        const old = theta[k];
        theta[k] = old + d;
        const v = mlpLoss(model, y0, times, opts);
        theta[k] = old;
        return v;
      }, h),
    );
    const tFd = Array.from(times, (_, i) =>
      central((d) => {
        const t = Float64Array.from(times);
        t[i] += d;
        return mlpLoss(model, y0, t, opts);
      }, h),
    );
    return { yFd, thetaFd, picks, tFd };
  };
  const reference = fd(tight);
  const results = Object.fromEntries(
    (['direct', 'checkpoint', 'adjoint'] as const).map((g) => [
      g,
      mlpGradients(model, y0, times, {
        ...tight,
        gradient: g,
        ...(g === 'adjoint' ? { adjointOptions: { rtol: 1e-10, atol: 1e-12 } } : {}),
      }),
    ]),
  );
  for (const g of ['direct', 'checkpoint', 'adjoint'] as const) {
    it(`${g} agrees with central finite differences`, () => {
      const r = results[g];
      expect(relErr(r.y, reference.yFd)).toBeLessThan(1e-6);
      expect(
        relErr(
          reference.picks.map((k) => r.theta[k]),
          reference.thetaFd,
        ),
      ).toBeLessThan(1e-6);
      expect(relErr(r.t, reference.tFd)).toBeLessThan(1e-6);
    });
  }
  it('direct and checkpoint agree to 1e-10, adjoint to the tolerance scale', () => {
    const d = results.direct;
    const c = results.checkpoint;
    const a = results.adjoint;
    expect(relErr(c.y, d.y)).toBeLessThan(1e-10);
    expect(relErr(c.theta, d.theta)).toBeLessThan(1e-10);
    expect(relErr(c.t, d.t)).toBeLessThan(1e-10);
    expect(relErr(a.theta, d.theta)).toBeLessThan(1e-6);
  });
  it('fixed-step dopri5 with outputs inside steps: direct differentiates the dense output exactly', () => {
    const opts: OdeintOptions = { method: 'dopri5', step: 0.15 };
    const r = mlpGradients(model, y0, times, { ...opts, gradient: 'direct' });
    const ref = fd(opts);
    expect(relErr(r.y, ref.yFd)).toBeLessThan(1e-8);
    expect(
      relErr(
        ref.picks.map((k) => r.theta[k]),
        ref.thetaFd,
      ),
    ).toBeLessThan(1e-8);
  });
  it('fixed-step rk4: direct is the exact derivative of the discrete map (finite differences to 1e-8)', () => {
    const opts: OdeintOptions = { method: 'rk4', step: 0.05 };
    const r = mlpGradients(model, y0, times, { ...opts, gradient: 'direct' });
    const ref = fd(opts);
    expect(relErr(r.y, ref.yFd)).toBeLessThan(1e-8);
    expect(
      relErr(
        ref.picks.map((k) => r.theta[k]),
        ref.thetaFd,
      ),
    ).toBeLessThan(1e-8);
    const c = mlpGradients(model, y0, times, { ...opts, gradient: 'checkpoint', checkpoints: 3 });
    expect(relErr(c.theta, r.theta)).toBeLessThan(1e-12);
    expect(relErr(c.y, r.y)).toBeLessThan(1e-12);
  });
});

describe('odeint uses the solveIvp solver core', () => {
  const f = (t: number, y: Float64Array, d: Float64Array) => {
    d[0] = y[1];
    d[1] = -y[0] - 0.1 * y[1] + 0.3 * Math.cos(t);
  };
  const tf = (t: Tensor, y: Tensor) => {
    const [a, b] = [y.data[0], y.data[1]];
    return new Tensor(Float64Array.of(b, -a - 0.1 * b + 0.3 * Math.cos(t.data[0])), [2]);
  };
  const flat = (ys: Float64Array[]) => Float64Array.from(ys.flatMap((v) => Array.from(v)));
  for (const method of ['dopri5', 'tsit5', 'bosh3', 'dopri8', 'rk4', 'adams', 'bdf', 'radau'] as const) {
    it(`${method}: same states and forward stats as solveIvp`, () => {
      const times = [0, 0.5, 2];
      const opts = method === 'rk4' ? { step: 0.1 } : { rtol: 1e-6, atol: 1e-9 };
      const ref = solveIvp(f, [0, 2], [1, 0], { method, ...opts, tEval: times });
      const stats = createOdeStats();
      const out = odeint(tf, new Tensor(Float64Array.of(1, 0), [2]), times, { method, ...opts, stats });
      expect(relErr(out.data, flat(ref.y))).toBeLessThan(1e-14);
      expect(stats.forward).toEqual(ref.stats);
    });
  }
  it('with gradients, dopri5 reads outputs from dense output and dopri8 steps onto them', () => {
    const times = [0, 0.5, 2];
    const opts = { rtol: 1e-6, atol: 1e-9 };
    const y0 = () => new Tensor(Float64Array.of(1, 0), [2], true);
    const plain = solveIvp(f, [0, 2], [1, 0], { ...opts, tEval: times });
    const s5 = createOdeStats();
    const out5 = odeint(tf, y0(), times, { ...opts, stats: s5 });
    expect(relErr(out5.data, flat(plain.y))).toBeLessThan(1e-14);
    expect(s5.forward).toEqual(plain.stats);
    const stopped = solveIvp(f, [0, 2], [1, 0], { ...opts, method: 'dopri8', tEval: times, tstops: [0.5] });
    const s8 = createOdeStats();
    const out8 = odeint(tf, y0(), times, { ...opts, method: 'dopri8', stats: s8 });
    expect(relErr(out8.data, flat(stopped.y))).toBeLessThan(1e-14);
    expect(s8.forward).toEqual(stopped.stats);
  });
});
