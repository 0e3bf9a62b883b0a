/**
 * The solveIvp driver: result contract, output times, backward solves, dense output, stop and jump times,
 * options, NFE budgets against SciPy, degenerate inputs, every input error and every solve failure.
 */
import { describe, expect, it } from 'vitest';
import {
  createIntegrator,
  DOPRI5_TABLEAU,
  type Dynamics,
  defineTableau,
  EXPLICIT_METHODS,
  METHOD_NAMES,
  type MethodName,
  maxNorm,
  OdeInputError,
  OdeSolveError,
  PidController,
  piController,
  rungeKuttaMethod,
  type SolveIvpOptions,
  solveIvp,
} from '../src/ode/index.js';
import { DECAY, keplerProblem, maxError, OSCILLATOR } from './ode-problems.js';

const osc = OSCILLATOR.f;

/** Run and return the thrown error (fails the test when nothing is thrown). */
function thrown(fn: () => unknown): Error & { code?: string; argument?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string; argument?: string };
  }
  throw new Error('expected an error to be thrown');
}

describe('result contract', () => {
  it('integrates with dopri5 by default and reports every accepted step', () => {
    const r = solveIvp(osc, [0, 10], [0, 1], { rtol: 1e-8, atol: 1e-10 });
    expect(r.method).toBe('dopri5');
    expect(r.success).toBe(true);
    expect(r.status).toEqual({ kind: 'success' });
    expect(r.message).toMatch(/reached the end/);
    expect(r.t[0]).toBe(0);
    expect(r.t[r.t.length - 1]).toBe(10);
    expect(r.t.length).toBe(r.stats.naccept + 1);
    expect(r.y.length).toBe(r.t.length);
    expect(maxError(r.y[r.y.length - 1], OSCILLATOR.exact(10))).toBeLessThan(1e-7);
    expect(r.sol).toBeUndefined();
    expect(r.tEvents).toEqual([]);
    // Output states are copies.
    expect(r.y[1]).not.toBe(r.y[2]);
  });

  it('counts work consistently: nsteps = naccept + nreject and dopri5 uses 6 evaluations per step (FSAL)', () => {
    const r = solveIvp(keplerProblem(0.5).f, [0, 20], keplerProblem(0.5).exact(0), {
      rtol: 1e-6,
      atol: 1e-8,
    });
    const { nfe, nsteps, naccept, nreject, njev, nlu } = r.stats;
    expect(nsteps).toBe(naccept + nreject);
    expect(nreject).toBeGreaterThan(0);
    // One evaluation at t0, one for the initial step size, six per attempted step.
    expect(nfe).toBe(2 + 6 * nsteps);
    expect(njev).toBe(0);
    expect(nlu).toBe(0);
  });

  it('accepts y0 as number[] or Float64Array and never modifies it', () => {
    const y0 = Float64Array.of(1, 2);
    const a = solveIvp(osc, [0, 1], y0);
    const b = solveIvp(osc, [0, 1], [1, 2]);
    expect(y0).toEqual(Float64Array.of(1, 2));
    expect(a.y[a.y.length - 1]).toEqual(b.y[b.y.length - 1]);
  });
});

describe('NFE budgets against SciPy solve_ivp', () => {
  // Reference counts from SciPy 1.17.1: solve_ivp(f, span, y0, method=M, rtol=tol, atol=tol*1e-2).nfev,
  // run once on this machine. They are used only as upper bounds: a faithful Hairer-style implementation
  // with the same controller should need no more evaluations.
  const kepler = keplerProblem(0.5);
  const problems = {
    oscillator: { f: osc, span: [0, 10] as [number, number], y0: [0, 1], exact: OSCILLATOR.exact },
    kepler: { f: kepler.f, span: [0, 20] as [number, number], y0: kepler.exact(0), exact: kepler.exact },
    decay: {
      f: ((_t, y, d) => {
        d[0] = -y[0];
      }) as Dynamics,
      span: [0, 5] as [number, number],
      y0: [1],
      exact: (t: number) => [Math.exp(-t)],
    },
  };
  const SCIPY: [MethodName, string, keyof typeof problems, number, number][] = [
    ['dopri5', 'RK45', 'oscillator', 1e-4, 140],
    ['dopri5', 'RK45', 'oscillator', 1e-8, 812],
    ['dopri5', 'RK45', 'kepler', 1e-4, 392],
    ['dopri5', 'RK45', 'kepler', 1e-8, 1934],
    ['dopri5', 'RK45', 'decay', 1e-4, 62],
    ['dopri5', 'RK45', 'decay', 1e-8, 320],
    ['dopri8', 'DOP853', 'oscillator', 1e-4, 98],
    ['dopri8', 'DOP853', 'oscillator', 1e-8, 242],
    ['dopri8', 'DOP853', 'kepler', 1e-4, 482],
    ['dopri8', 'DOP853', 'kepler', 1e-8, 1214],
    ['bosh3', 'RK23', 'oscillator', 1e-4, 341],
    ['bosh3', 'RK23', 'kepler', 1e-4, 887],
    ['bosh3', 'RK23', 'kepler', 1e-8, 15464],
  ];
  it.each(SCIPY)(
    '%s (vs %s) on %s at rtol %s needs at most %i evaluations',
    (method, _m, name, tol, bound) => {
      const p = problems[name];
      const r = solveIvp(p.f, p.span, p.y0, { method, rtol: tol, atol: tol * 1e-2 });
      expect(r.stats.nfe).toBeLessThanOrEqual(bound);
      // …and is still accurate (the budget is not met by ignoring the tolerance).
      expect(maxError(r.y[r.y.length - 1], p.exact(p.span[1]))).toBeLessThan(3000 * tol);
    },
  );
});

describe('output times (tEval)', () => {
  it('serves tEval from dense output without changing the steps', () => {
    const tEval = Array.from({ length: 101 }, (_, i) => i / 10);
    const plain = solveIvp(osc, [0, 10], [0, 1], { rtol: 1e-9, atol: 1e-9 });
    const r = solveIvp(osc, [0, 10], [0, 1], { rtol: 1e-9, atol: 1e-9, tEval });
    expect(r.t).toEqual(tEval);
    expect(r.stats).toEqual(plain.stats);
    for (let i = 0; i < tEval.length; i++)
      expect(maxError(r.y[i], OSCILLATOR.exact(tEval[i]))).toBeLessThan(1e-8);
  });

  it('lets fixed-step methods step from output time to output time when no step is given', () => {
    const tEval = [0, 0.1, 0.3, 0.35, 1];
    const r = solveIvp(DECAY.f, [0, 1], [1], { method: 'rk4', tEval });
    expect(r.t).toEqual(tEval);
    expect(r.stats.naccept).toBe(4);
    expect(Math.abs(r.y[4][0] - Math.exp(-0.8))).toBeLessThan(1e-3);
  });

  it('serves a subset of times and times at both ends', () => {
    const r = solveIvp(DECAY.f, [0, 2], [1], { tEval: [0.5, 2], rtol: 1e-10, atol: 1e-12 });
    expect(r.t).toEqual([0.5, 2]);
    expect(Math.abs(r.y[0][0] - Math.exp(-0.4))).toBeLessThan(1e-9);
  });
});

describe('backward integration (t1 < t0)', () => {
  it.each(['dopri5', 'tsit5', 'dopri8', 'bosh3', 'adams'] as MethodName[])(
    '%s recovers the initial state',
    (method) => {
      const y1 = OSCILLATOR.exact(5);
      const tEval = [5, 4, 2.5, 0];
      const r = solveIvp(osc, [5, 0], y1, { method, rtol: 1e-10, atol: 1e-10, tEval, denseOutput: true });
      expect(r.t).toEqual(tEval);
      for (let i = 0; i < tEval.length; i++)
        expect(maxError(r.y[i], OSCILLATOR.exact(tEval[i]))).toBeLessThan(1e-7);
      expect(maxError(r.sol!(1.234), OSCILLATOR.exact(1.234))).toBeLessThan(1e-7);
      expect(r.sol!.t0).toBe(5);
      expect(r.sol!.t1).toBe(0);
    },
  );

  it('reports decreasing output times without tEval', () => {
    const r = solveIvp(DECAY.f, [2, -1], [1], { rtol: 1e-8 });
    for (let i = 1; i < r.t.length; i++) expect(r.t[i]).toBeLessThan(r.t[i - 1]);
    expect(r.t[r.t.length - 1]).toBe(-1);
    expect(Math.abs(r.y[r.y.length - 1][0] - Math.exp(0.8 * 3))).toBeLessThan(1e-6 * Math.exp(2.4));
  });

  it('runs fixed-step methods backwards', () => {
    const r = solveIvp(DECAY.f, [1, 0], [Math.exp(-0.8)], { method: 'rk4', step: 0.01 });
    expect(r.t.length).toBe(101);
    expect(Math.abs(r.y[100][0] - 1)).toBeLessThan(1e-9);
  });
});

describe('dense output (sol)', () => {
  it('is continuous across steps and agrees with the step values', () => {
    const r = solveIvp(osc, [0, 10], [0, 1], { rtol: 1e-8, atol: 1e-8, denseOutput: true });
    const sol = r.sol!;
    for (let i = 0; i < r.t.length; i++) expect(maxError(sol(r.t[i]), r.y[i])).toBeLessThan(1e-12);
    for (let i = 1; i < r.t.length - 1; i++) {
      const t = r.t[i];
      const eps = 1e-12 * Math.max(1, t);
      expect(maxError(sol(t - eps), sol(t + eps))).toBeLessThan(1e-10);
    }
    const out = new Float64Array(2);
    expect(sol.evaluate(3.3, out)).toBe(out);
    expect(maxError(out, OSCILLATOR.exact(3.3))).toBeLessThan(1e-7);
  });

  it('throws a RangeError outside the solved interval', () => {
    const r = solveIvp(osc, [0, 1], [0, 1], { denseOutput: true });
    expect(() => r.sol!(1.5)).toThrow(RangeError);
    expect(() => r.sol!(-0.1)).toThrow(/outside the solved interval \[0, 1\]/);
  });

  it.each(['rk4', 'explicit-adams', 'implicit-adams'] as MethodName[])(
    'works for fixed-step %s',
    (method) => {
      const r = solveIvp(osc, [0, 2], [0, 1], { method, step: 0.01, denseOutput: true });
      expect(maxError(r.sol!(1.2345), OSCILLATOR.exact(1.2345))).toBeLessThan(1e-6);
    },
  );
});

describe('stop times and jump times', () => {
  // y' = |t − 1| has a kink at t = 1.
  const kink: Dynamics = (t, _y, d) => {
    d[0] = Math.abs(t - 1);
  };
  it('tstops lands steps exactly on a kink, improving accuracy', () => {
    const withStop = solveIvp(kink, [0, 3], [0], { tstops: [1], rtol: 1e-6, atol: 1e-9 });
    const without = solveIvp(kink, [0, 3], [0], { rtol: 1e-6, atol: 1e-9 });
    expect(withStop.t).toContain(1);
    const exact = 0.5 + 2;
    const errWith = Math.abs(withStop.y[withStop.y.length - 1][0] - exact);
    const errWithout = Math.abs(without.y[without.y.length - 1][0] - exact);
    expect(errWith).toBeLessThan(1e-12);
    expect(errWith).toBeLessThan(errWithout);
  });

  it('jumpTimes restart the method at a discontinuity of f and save evaluations', () => {
    // y' = 0 before t = 1 and 1 after: y(3) = 2.
    const step: Dynamics = (t, _y, d) => {
      d[0] = t < 1 ? 0 : 1;
    };
    const jumped = solveIvp(step, [0, 3], [0], { jumpTimes: [1], rtol: 1e-8, atol: 1e-10 });
    const plain = solveIvp(step, [0, 3], [0], { rtol: 1e-8, atol: 1e-10 });
    expect(jumped.t).toContain(1);
    expect(Math.abs(jumped.y[jumped.y.length - 1][0] - 2)).toBeLessThan(1e-12);
    expect(jumped.stats.nfe).toBeLessThan(plain.stats.nfe);
  });
});

describe('options', () => {
  it('respects firstStep and maxStep', () => {
    const r = solveIvp(DECAY.f, [0, 10], [1], { firstStep: 0.01, maxStep: 0.5 });
    expect(r.t[1]).toBeCloseTo(0.01, 15);
    for (let i = 1; i < r.t.length; i++) expect(r.t[i] - r.t[i - 1]).toBeLessThanOrEqual(0.5 + 1e-15);
  });

  it('takes constant steps with `step`, even for adaptive methods', () => {
    const r = solveIvp(DECAY.f, [0, 1], [1], { method: 'dopri5', step: 0.125 });
    expect(r.t).toEqual([0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1]);
    expect(r.stats.nreject).toBe(0);
  });

  it('accepts per-component tolerances', () => {
    const loose = solveIvp(osc, [0, 10], [0, 1], { rtol: [1e-3, 1e-3], atol: [1e-6, 1e-6] });
    const tight = solveIvp(osc, [0, 10], [0, 1], { rtol: [1e-3, 1e-10], atol: [1e-6, 1e-12] });
    expect(tight.stats.nfe).toBeGreaterThan(loose.stats.nfe);
  });

  it('accepts a custom norm and custom controllers', () => {
    const kepler = keplerProblem(0.5);
    const base = { rtol: 1e-6, atol: 1e-8 } as const;
    const rms = solveIvp(kepler.f, [0, 20], kepler.exact(0), base);
    const max = solveIvp(kepler.f, [0, 20], kepler.exact(0), { ...base, norm: maxNorm });
    expect(max.stats.nfe).toBeGreaterThan(rms.stats.nfe);
    for (const controller of [
      new PidController({ pcoeff: 0.1, icoeff: 0.3 }),
      piController({ errorOrder: 4 }),
    ]) {
      const r = solveIvp(kepler.f, [0, 20], kepler.exact(0), { ...base, controller });
      expect(r.success).toBe(true);
      expect(maxError(r.y[r.y.length - 1], kepler.exact(20))).toBeLessThan(1e-3);
    }
  });

  it('calls onStep after every accepted step', () => {
    const seen: number[] = [];
    const r = solveIvp(DECAY.f, [0, 3], [1], {
      onStep: (t, y, stats) => {
        seen.push(t);
        expect(y[0]).toBeCloseTo(Math.exp(-0.8 * t), 2);
        expect(stats.naccept).toBe(seen.length);
      },
    });
    expect(seen).toEqual(r.t.slice(1));
  });

  it('accepts a MethodFactory instance, e.g. a user-defined tableau', () => {
    const ssprk3 = rungeKuttaMethod(
      defineTableau({
        name: 'ssprk3',
        order: 3,
        c: [0, 1, 1 / 2],
        a: [[], [1], [1 / 4, 1 / 4]],
        b: [1 / 6, 1 / 6, 2 / 3],
      }),
    );
    const r = solveIvp(DECAY.f, [0, 1], [1], { method: ssprk3, step: 0.01 });
    expect(r.method).toBe('ssprk3');
    expect(Math.abs(r.y[r.y.length - 1][0] - Math.exp(-0.8))).toBeLessThan(1e-7);
  });

  it('runs every registered method, including the stiff ones, through solveIvp', () => {
    expect(METHOD_NAMES).toEqual(
      expect.arrayContaining(['dopri5', 'adams', 'bdf', 'radau', 'rodas', 'auto']),
    );
    for (const method of METHOD_NAMES) {
      const fixed =
        method in EXPLICIT_METHODS && EXPLICIT_METHODS[method as keyof typeof EXPLICIT_METHODS].fixedStep;
      const r = solveIvp(osc, [0, 2], [0, 1], {
        method: method as MethodName,
        rtol: 1e-6,
        atol: 1e-8,
        ...(fixed ? { step: 0.01 } : {}),
      });
      expect(r.method).toBe(method);
      expect(maxError(r.y[r.y.length - 1], OSCILLATOR.exact(2))).toBeLessThan(
        method === 'euler' ? 0.05 : 1e-3,
      );
    }
  });

  it('solves a stiff problem with the stiff methods through solveIvp (Robertson)', () => {
    const robertson: Dynamics = (_t, y, d) => {
      d[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
      d[1] = 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] * y[1];
      d[2] = 3e7 * y[1] * y[1];
    };
    for (const method of ['bdf', 'radau', 'rodas', 'auto'] as MethodName[]) {
      const r = solveIvp(robertson, [0, 40], [1, 0, 0], { method, rtol: 1e-6, atol: 1e-10 });
      const y = r.y[r.y.length - 1];
      // Reference at t = 40 (Hairer & Wanner): y1 ≈ 0.7158.
      expect(Math.abs(y[0] - 0.7158270687)).toBeLessThan(1e-4);
      expect(r.stats.nfe).toBeLessThan(2000);
    }
  });
});

describe("'auto' through solveIvp", () => {
  it('switches to radau on Van der Pol (μ = 1000) and records the switch times', () => {
    const vdp: Dynamics = (_t, y, d) => {
      d[0] = y[1];
      d[1] = 1000 * (1 - y[0] * y[0]) * y[1] - y[0];
    };
    const r = solveIvp(vdp, [0, 3000], [2, 0], { method: 'auto', rtol: 1e-6, atol: 1e-6, tEval: [0, 3000] });
    // Reference y1(3000) from SciPy Radau at rtol 1e-13 (test/stiff-problems.ts).
    expect(Math.abs(r.y[1][0] - -1.5106069367440997)).toBeLessThan(1e-3);
    expect(r.stats.switches?.[0].to).toBe('radau');
    expect(r.stats.switches![0].t).toBeGreaterThan(0);
  });

  it('reports switch times in the caller’s time for a backward solve', () => {
    // y′ = 1000(y − cos t) − sin t is stiff and stable when integrated backwards; y = cos t.
    const f: Dynamics = (t, y, d) => {
      d[0] = 1000 * (y[0] - Math.cos(t)) - Math.sin(t);
    };
    const r = solveIvp(f, [10, 0], [Math.cos(10)], { method: 'auto', rtol: 1e-6, atol: 1e-6 });
    expect(Math.abs(r.y[r.y.length - 1][0] - 1)).toBeLessThan(1e-4);
    const switches = r.stats.switches ?? [];
    expect(switches.length).toBeGreaterThan(0);
    for (const s of switches) {
      expect(s.t).toBeGreaterThanOrEqual(0);
      expect(s.t).toBeLessThanOrEqual(10);
    }
  });
});

describe('degenerate inputs', () => {
  it('returns the initial state for a zero-length interval', () => {
    const r = solveIvp(DECAY.f, [2, 2], [3], { denseOutput: true });
    expect(r.t).toEqual([2]);
    expect(r.y).toEqual([Float64Array.of(3)]);
    expect(r.success).toBe(true);
    expect(r.stats.naccept).toBe(0);
    expect(r.sol!(2)).toEqual(Float64Array.of(3));
    const withEval = solveIvp(DECAY.f, [2, 2], [3], { tEval: [2] });
    expect(withEval.t).toEqual([2]);
  });

  it('rejects an empty state', () => {
    const e = thrown(() => solveIvp(DECAY.f, [0, 1], []));
    expect(e).toBeInstanceOf(OdeInputError);
    expect(e.code).toBe('invalidInitialState');
    expect(e.message).toMatch(/^y0: is empty/);
  });
});

describe('input errors (thrown before any evaluation of f)', () => {
  let calls = 0;
  const counted: Dynamics = (_t, y, d) => {
    calls++;
    d[0] = -y[0];
  };
  const cases: [string, () => unknown, string, string, RegExp][] = [
    [
      'rtol = 0',
      () => solveIvp(counted, [0, 1], [1], { rtol: 0 }),
      'invalidTolerance',
      'options.rtol',
      /> 0, got 0/,
    ],
    [
      'rtol < 0',
      () => solveIvp(counted, [0, 1], [1], { rtol: -1e-3 }),
      'invalidTolerance',
      'options.rtol',
      /got -0.001/,
    ],
    [
      'rtol NaN',
      () => solveIvp(counted, [0, 1], [1], { rtol: Number.NaN }),
      'invalidTolerance',
      'options.rtol',
      /NaN/,
    ],
    [
      'rtol too small',
      () => solveIvp(counted, [0, 1], [1], { rtol: 1e-20 }),
      'invalidTolerance',
      'options.rtol',
      /100·eps/,
    ],
    [
      'atol = 0',
      () => solveIvp(counted, [0, 1], [1], { atol: 0 }),
      'invalidTolerance',
      'options.atol',
      /tiny atol/,
    ],
    [
      'atol of wrong length',
      () => solveIvp(counted, [0, 1], [1], { atol: [1e-6, 1e-6] }),
      'invalidTolerance',
      'options.atol',
      /has 2 entries but the state has 1 components/,
    ],
    [
      'negative per-component rtol',
      () => solveIvp(counted, [0, 1], [1, 2], { rtol: [1e-3, -1] }),
      'invalidTolerance',
      'options.rtol[1]',
      /got -1/,
    ],
    [
      'y0 with NaN',
      () => solveIvp(counted, [0, 1], [1, Number.NaN]),
      'invalidInitialState',
      'y0[1]',
      /finite/,
    ],
    [
      'y0 with Infinity',
      () => solveIvp(counted, [0, 1], [Infinity]),
      'invalidInitialState',
      'y0[0]',
      /Infinity/,
    ],
    ['t span with NaN', () => solveIvp(counted, [0, Number.NaN], [1]), 'invalidTimeSpan', 'tSpan', /finite/],
    [
      'tEval outside the span',
      () => solveIvp(counted, [0, 1], [1], { tEval: [0, 0.5, 1.5] }),
      'invalidTEval',
      'options.tEval[2]',
      /1.5 lies outside the time span \[0, 1\]/,
    ],
    [
      'tEval not increasing',
      () => solveIvp(counted, [0, 1], [1], { tEval: [0, 0.5, 0.2] }),
      'invalidTEval',
      'options.tEval[2]',
      /must be increasing.*0.5 is followed by 0.2/,
    ],
    [
      'tEval increasing in a backward solve',
      () => solveIvp(counted, [1, 0], [1], { tEval: [0.2, 0.5] }),
      'invalidTEval',
      'options.tEval[1]',
      /must be decreasing/,
    ],
    [
      'unknown method',
      () => solveIvp(counted, [0, 1], [1], { method: 'rk45' as MethodName }),
      'unknownMethod',
      'options.method',
      /unknown method "rk45"; valid names: 'euler'.*'dopri5'.*'bdf', 'radau', 'rodas'.*'auto'/,
    ],
    [
      'fixed-step method without step',
      () => solveIvp(counted, [0, 1], [1], { method: 'rk4' }),
      'missingStep',
      'options.step',
      /method 'rk4' takes fixed steps: give options.step/,
    ],
    [
      'step = 0',
      () => solveIvp(counted, [0, 1], [1], { method: 'rk4', step: 0 }),
      'invalidStep',
      'options.step',
      /positive/,
    ],
    [
      'unknown option',
      () => solveIvp(counted, [0, 1], [1], { rtoll: 1e-3 } as SolveIvpOptions),
      'unknownOption',
      'options.rtoll',
      /unknown option; known options: method, rtol/,
    ],
    [
      'tstops outside the span',
      () => solveIvp(counted, [0, 1], [1], { tstops: [2] }),
      'invalidStopTimes',
      'options.tstops[0]',
      /outside the time span/,
    ],
    [
      'maxSteps not a positive integer',
      () => solveIvp(counted, [0, 1], [1], { maxSteps: 0.5 }),
      'invalidOption',
      'options.maxSteps',
      /positive integer/,
    ],
    [
      'event without fn',
      () => solveIvp(counted, [0, 1], [1], { events: [{} as never] }),
      'invalidEvent',
      'options.events[0]',
      /fn: \(t, y\) => number/,
    ],
    [
      'event with bad direction',
      () => solveIvp(counted, [0, 1], [1], { events: [{ fn: () => 1, direction: 2 as never }] }),
      'invalidEvent',
      'options.events[0].direction',
      /-1, 0 or 1/,
    ],
  ];
  it.each(cases)('%s', (_label, run, code, argument, message) => {
    calls = 0;
    const e = thrown(run);
    expect(e).toBeInstanceOf(OdeInputError);
    expect(e.code).toBe(code);
    expect(e.argument).toBe(argument);
    expect(e.message.startsWith(`${argument}: `)).toBe(true);
    expect(e.message).toMatch(message);
    expect(calls).toBe(0);
  });
});

describe('solve failures', () => {
  it('non-finite derivative: names the time and keeps the partial solution', () => {
    const f: Dynamics = (t, _y, d) => {
      d[0] = t < 1 ? 1 : Number.NaN;
    };
    const e = thrown(() => solveIvp(f, [0, 2], [0])) as OdeSolveError<ReturnType<typeof solveIvp>>;
    expect(e).toBeInstanceOf(OdeSolveError);
    expect(e.code).toBe('nonFiniteDerivative');
    expect(e.t).toBeGreaterThan(0.99);
    expect(e.t).toBeLessThan(1);
    expect(e.message).toMatch(/at t = 0\.99\d*.*non-finite.*Remedy: f produced NaN or Infinity/);
    const partial = e.result;
    expect(partial.success).toBe(false);
    expect(partial.status.kind).toBe('nonFiniteDerivative');
    expect(partial.t[partial.t.length - 1]).toBe(e.t);
    expect(partial.stats.nfe).toBeGreaterThan(0);
    // Not enumerable, so logging the error stays short.
    expect(Object.keys(e)).not.toContain('result');
  });

  it('non-finite derivative at the initial point fails at once', () => {
    const f: Dynamics = (_t, _y, d) => {
      d[0] = Number.POSITIVE_INFINITY;
    };
    const r = solveIvp(f, [0, 1], [0], { throwOnFailure: false });
    expect(r.status).toMatchObject({ kind: 'nonFiniteDerivative', t: 0 });
    expect(r.message).toMatch(/at t = 0/);
    expect(r.t).toEqual([0]);
  });

  it('step-size underflow at a finite-time blow-up (y′ = y², y(0) = 1)', () => {
    const f: Dynamics = (_t, y, d) => {
      d[0] = y[0] * y[0];
    };
    const r = solveIvp(f, [0, 2], [1], { throwOnFailure: false, rtol: 1e-8, atol: 1e-8 });
    expect(r.success).toBe(false);
    expect(['stepSizeUnderflow', 'nonFiniteDerivative']).toContain(r.status.kind);
    const t = (r.status as { t: number }).t;
    expect(Math.abs(t - 1)).toBeLessThan(1e-3);
    expect(r.message).toMatch(new RegExp(`at t = ${t}`));
    expect((r.status as { remedy: string }).remedy.length).toBeGreaterThan(10);
  });

  it('maxSteps exceeded returns the steps taken so far', () => {
    const e = thrown(() => solveIvp(osc, [0, 100], [0, 1], { maxSteps: 10 })) as OdeSolveError<
      ReturnType<typeof solveIvp>
    >;
    expect(e.code).toBe('maxStepsReached');
    expect(e.message).toMatch(
      /reached maxSteps = 10 accepted steps at t = [\d.]+ before t1 = 100.*Remedy: raise options\.maxSteps/,
    );
    expect(e.result.t.length).toBe(11);
    expect(e.result.stats.naccept).toBe(10);
  });

  it('throwOnFailure: false returns the failed status instead of throwing', () => {
    const r = solveIvp(osc, [0, 100], [0, 1], { maxSteps: 5, throwOnFailure: false });
    expect(r.success).toBe(false);
    expect(r.status).toMatchObject({ kind: 'maxStepsReached', looksStiff: false });
    expect(r.t.length).toBe(6);
  });

  describe('stiffness', () => {
    // Van der Pol with μ = 1000 on its slow branch: explicit steps are limited by stability.
    const vdp: Dynamics = (_t, y, d) => {
      d[0] = y[1];
      d[1] = 1000 * (1 - y[0] * y[0]) * y[1] - y[0];
    };
    it('a maxSteps failure on a stiff problem says it looks stiff and names the stiff methods', () => {
      const r = solveIvp(vdp, [0, 3000], [2, 0], { maxSteps: 3000, throwOnFailure: false });
      expect(r.status).toMatchObject({ kind: 'maxStepsReached', looksStiff: true });
      expect(r.message).toMatch(/looks stiff.*'bdf', 'radau', 'rodas' or 'auto'/);
    });
    it("dopri5 with onStiffness: 'fail' stops with code 'stiff' (Hairer's test)", () => {
      const method = rungeKuttaMethod(DOPRI5_TABLEAU, { onStiffness: 'fail' });
      const e = thrown(() => solveIvp(vdp, [0, 3000], [2, 0], { method }));
      expect(e).toBeInstanceOf(OdeSolveError);
      expect(e.code).toBe('stiff');
      expect(e.message).toMatch(
        /looks stiff.*Remedy: use a stiff method: method: 'bdf', 'radau', 'rodas' or 'auto'/,
      );
    });
    it('a non-stiff problem does not look stiff', () => {
      const r = solveIvp(osc, [0, 1000], [0, 1], { maxSteps: 500, throwOnFailure: false });
      expect(r.status).toMatchObject({ kind: 'maxStepsReached', looksStiff: false });
      expect(r.message).not.toMatch(/stiff \(/);
    });
  });
});

describe('stepping layer (createIntegrator)', () => {
  it('reproduces solveIvp step by step', () => {
    const r = solveIvp(osc, [0, 10], [0, 1], { rtol: 1e-6 });
    const integrator = createIntegrator(osc, [0, 10], [0, 1], { rtol: 1e-6 });
    const ts = [integrator.t];
    while (!integrator.finished) {
      expect(integrator.step().kind).toBe('accepted');
      ts.push(integrator.t);
    }
    expect(ts).toEqual(r.t);
    expect(integrator.stats).toEqual(r.stats);
  });

  it('advanceTo serves observation times from dense output, like tEval', () => {
    const obs = [0.3, 1.7, 1.8, 4, 10];
    const r = solveIvp(osc, [0, 10], [0, 1], { rtol: 1e-7, atol: 1e-9, tEval: obs });
    const integrator = createIntegrator(osc, [0, 10], [0, 1], { rtol: 1e-7, atol: 1e-9 });
    obs.forEach((t, i) => {
      const y = integrator.advanceTo(t);
      expect(y).toBeInstanceOf(Float64Array);
      expect(maxError(y as Float64Array, r.y[i])).toBeLessThan(1e-15);
    });
    expect(() => integrator.advanceTo(0.1)).toThrow(RangeError);
  });

  it('restart continues from a changed state', () => {
    const integrator = createIntegrator(DECAY.f, [0, 2], [1], { rtol: 1e-10, atol: 1e-12 });
    integrator.advanceTo(1);
    integrator.restart(1, [5]);
    const y = integrator.advanceTo(2) as Float64Array;
    expect(Math.abs(y[0] - 5 * Math.exp(-0.8))).toBeLessThan(1e-9);
  });

  it('rejects unknown options', () => {
    expect(() => createIntegrator(DECAY.f, [0, 1], [1], { tEval: [1] } as never)).toThrow(
      /options.tEval: unknown option/,
    );
  });
});
