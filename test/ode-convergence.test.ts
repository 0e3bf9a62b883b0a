/**
 * Convergence of every explicit method on problems with analytic solutions: observed order of fixed-step
 * runs (slope of log error against log h), of adaptive runs (slope of log error against log NFE at tightening
 * tolerances), global error proportional to the tolerance, dense-output order, and the one-step error
 * estimate bounding the true error.
 */
import { describe, expect, it } from 'vitest';
import {
  createIntegrator,
  explicitAdamsMethod,
  implicitAdamsMethod,
  type MethodFactory,
  type MethodName,
  solveIvp,
} from '../src/ode/index.js';
import type { RungeKuttaStepper } from '../src/ode/runge-kutta.js';
import {
  DECAY,
  fitSlope,
  halfDecades,
  keplerProblem,
  LINEAR,
  LINEAR_Y0,
  maxError,
  OSCILLATOR,
} from './ode-problems.js';

const KEPLER = keplerProblem(0.3);
const T = 3;

/** [label, method, order, numbers of steps over [0, T], eccentricity (default 0.3)] */
const FIXED_CASES: [string, MethodName | MethodFactory, number, number[], number?][] = [
  ['euler', 'euler', 1, [400, 800, 1600, 3200]],
  ['midpoint', 'midpoint', 2, [100, 200, 400, 800]],
  ['heun', 'heun', 2, [100, 200, 400, 800]],
  ['ralston', 'ralston', 2, [100, 200, 400, 800]],
  ['rk4', 'rk4', 4, [40, 80, 160, 320]],
  ['rk38', 'rk38', 4, [40, 80, 160, 320]],
  // Adaptive tableaus with a constant step: the order of the propagated solution.
  ['heun-euler', 'heun-euler', 2, [100, 200, 400, 800]],
  ['fehlberg2', 'fehlberg2', 2, [100, 200, 400, 800]],
  ['bosh3', 'bosh3', 3, [50, 100, 200, 400]],
  ['dopri5', 'dopri5', 5, [40, 60, 80, 120]],
  ['tsit5', 'tsit5', 5, [40, 60, 80, 120]],
  // The eighth-order method reaches its asymptotic regime before roundoff only on the circular orbit.
  ['dopri8', 'dopri8', 8, [16, 20, 24, 28], 0],
  ['explicit-adams (order 4, default)', 'explicit-adams', 4, [80, 160, 320, 640]],
  ['implicit-adams (order 4, default)', 'implicit-adams', 4, [80, 160, 320, 640]],
  ...[1, 2, 3, 5].flatMap((k): [string, MethodFactory, number, number[]][] => {
    const steps = k === 1 ? [400, 800, 1600, 3200] : k === 5 ? [160, 320, 640, 1280] : [80, 160, 320, 640];
    return [
      [`explicit-adams order ${k}`, explicitAdamsMethod({ order: k }), k, steps],
      [`implicit-adams order ${k}`, implicitAdamsMethod({ order: k }), k, steps],
    ];
  }),
];

describe('fixed-step order of convergence (Kepler orbit)', () => {
  it.each(FIXED_CASES)('%s', (_label, method, order, steps, eccentricity) => {
    const problem = eccentricity === undefined ? KEPLER : keplerProblem(eccentricity);
    const y0 = problem.exact(0);
    const yT = problem.exact(T);
    const errors = steps.map((n) => {
      const r = solveIvp(problem.f, [0, T], y0, { method, step: T / n });
      expect(r.t.length).toBe(n + 1);
      return maxError(r.y[r.y.length - 1], yT);
    });
    const slope = -fitSlope(
      steps.map((n) => Math.log(T / n)).map((x) => -x),
      errors.map(Math.log),
    );
    expect(Math.abs(slope - order)).toBeLessThan(0.3);
  });
});

/** [method, order, tolerances] for the adaptive sweep on the oscillator over [0, 20]. */
const ADAPTIVE_CASES: [MethodName, number, number[]][] = [
  ['heun-euler', 2, halfDecades(1e-4, 1e-7)],
  ['fehlberg2', 2, halfDecades(1e-5, 1e-8)],
  ['bosh3', 3, halfDecades(1e-5, 1e-9)],
  ['dopri5', 5, halfDecades(1e-7, 1e-12)],
  ['tsit5', 5, halfDecades(1e-7, 1e-12)],
  ['dopri8', 8, halfDecades(1e-8, 1e-13)],
];

function globalError(problem: typeof OSCILLATOR, t: number[], y: Float64Array[]): number {
  return Math.max(...t.map((ti, i) => maxError(y[i], problem.exact(ti))));
}

describe('adaptive order of convergence against function evaluations (oscillator, t ∈ [0, 20])', () => {
  it.each(ADAPTIVE_CASES)('%s has order %i', (method, order, tolerances) => {
    const y0 = OSCILLATOR.exact(0);
    const runs = tolerances.map((tol) =>
      solveIvp(OSCILLATOR.f, [0, 20], y0, { method, rtol: tol, atol: tol }),
    );
    const errors = runs.map((r) => globalError(OSCILLATOR, r.t, r.y));
    const nfe = runs.map((r) => r.stats.nfe);
    const slope = -fitSlope(nfe.map(Math.log), errors.map(Math.log));
    expect(Math.abs(slope - order)).toBeLessThan(0.3);
  });
});

describe('global error proportional to the tolerance (Kepler orbit over [0, 10])', () => {
  const cases: [MethodName, number[]][] = [
    ['dopri5', halfDecades(1e-3, 1e-10)],
    ['tsit5', halfDecades(1e-3, 1e-10)],
    ['dopri8', halfDecades(1e-3, 1e-10)],
    ['adams', halfDecades(1e-3, 1e-10)],
    ['bosh3', halfDecades(1e-3, 1e-8)],
    ['heun-euler', halfDecades(1e-3, 1e-6)],
  ];
  it.each(cases)('%s: error/tolerance stays within a narrow band', (method, tolerances) => {
    const y0 = KEPLER.exact(0);
    const ratios = tolerances.map((tol) => {
      const r = solveIvp(KEPLER.f, [0, 10], y0, { method, rtol: tol, atol: tol, maxSteps: 1e6 });
      return globalError(KEPLER, r.t, r.y) / tol;
    });
    const slope = fitSlope(
      tolerances.map(Math.log),
      ratios.map((q, i) => Math.log(q * tolerances[i])),
    );
    expect(Math.abs(slope - 1)).toBeLessThan(0.2);
    // Tolerance proportionality: the error per unit tolerance varies by less than a factor 30 over the sweep
    // and stays below 1000 (an eccentric orbit over 1.6 periods accumulates phase error).
    expect(Math.max(...ratios) / Math.min(...ratios)).toBeLessThan(30);
    expect(Math.max(...ratios)).toBeLessThan(1000);
  });
});

describe('linear system against the matrix exponential', () => {
  it.each(['dopri5', 'tsit5', 'dopri8', 'bosh3', 'adams'] as MethodName[])(
    '%s at rtol = atol = 1e-9',
    (method) => {
      const tEval = [0, 1, 2.5, 5, 7.5, 10];
      const r = solveIvp(LINEAR.f, [0, 10], LINEAR_Y0, {
        method,
        rtol: 1e-9,
        atol: 1e-9,
        tEval,
        maxSteps: 1e6,
      });
      expect(r.t).toEqual(tEval);
      const err = Math.max(...tEval.map((t, i) => maxError(r.y[i], LINEAR.exact(t))));
      expect(err).toBeLessThan(1e-7);
      expect(err).toBeGreaterThan(0);
    },
  );
});

describe('adams (variable step, variable order)', () => {
  it('needs far fewer evaluations than dopri5 at tight tolerances', () => {
    const y0 = KEPLER.exact(0);
    const adams = solveIvp(KEPLER.f, [0, 10], y0, { method: 'adams', rtol: 1e-11, atol: 1e-11 });
    const dopri5 = solveIvp(KEPLER.f, [0, 10], y0, { method: 'dopri5', rtol: 1e-11, atol: 1e-11 });
    expect(maxError(adams.y[adams.y.length - 1], KEPLER.exact(10))).toBeLessThan(1e-8);
    expect(adams.stats.nfe).toBeLessThan(0.5 * dopri5.stats.nfe);
  });
  it('reaches high order: error at least 1e4 times smaller for 3x the work', () => {
    const y0 = OSCILLATOR.exact(0);
    const loose = solveIvp(OSCILLATOR.f, [0, 20], y0, { method: 'adams', rtol: 1e-5, atol: 1e-5 });
    const tight = solveIvp(OSCILLATOR.f, [0, 20], y0, { method: 'adams', rtol: 1e-11, atol: 1e-11 });
    const eLoose = globalError(OSCILLATOR, loose.t, loose.y);
    const eTight = globalError(OSCILLATOR, tight.t, tight.y);
    expect(tight.stats.nfe).toBeLessThan(3 * loose.stats.nfe);
    expect(eTight).toBeLessThan(1e-4 * eLoose);
  });
});

describe('dense output order (one step from the exact state, error at θ = 0.3 and 0.7)', () => {
  // Local interpolation error is O(h^(q+1)) for a continuous extension of order q.
  const cases: [MethodName, number, number[], number?][] = [
    ['bosh3', 3, [0.4, 0.2, 0.1, 0.05]],
    ['dopri5', 4, [0.4, 0.2, 0.1, 0.05]],
    ['tsit5', 4, [0.4, 0.2, 0.1, 0.05]],
    ['dopri8', 7, [0.3, 0.2, 0.15, 0.1], 0.1],
    ['rk4', 3, [0.4, 0.2, 0.1, 0.05]],
    ['heun-euler', 2, [0.2, 0.1, 0.05, 0.025]],
    ['adams', 2, [0.2, 0.1, 0.05, 0.025]],
  ];
  it.each(cases)('%s interpolates with order %i', (method, order, steps, eccentricity) => {
    const problem = eccentricity === undefined ? KEPLER : keplerProblem(eccentricity);
    const y0 = problem.exact(0);
    const errors = steps.map((h) => {
      // One step exactly (tstops would split it; step/firstStep make it a single step).
      const opts = method === 'rk4' ? { step: h } : { firstStep: h, rtol: 1e3, atol: 1e3, maxStep: h };
      const r = solveIvp(problem.f, [0, h], y0, { method, ...opts, denseOutput: true });
      expect(r.stats.naccept).toBe(1);
      return Math.max(
        maxError(r.sol!(0.3 * h), problem.exact(0.3 * h)),
        maxError(r.sol!(0.7 * h), problem.exact(0.7 * h)),
      );
    });
    const slope = fitSlope(steps.map(Math.log), errors.map(Math.log));
    expect(Math.abs(slope - (order + 1))).toBeLessThan(0.3);
  });
});

describe('one-step error estimate bounds the true error', () => {
  // fehlberg2 is left out on purpose: its estimate is that of the first-order solution, whose error constant
  // is tiny (1/512), so it underestimates the error of the propagated second-order solution (see its TSDoc).
  it.each(['heun-euler', 'bosh3', 'dopri5', 'tsit5', 'dopri8'] as MethodName[])('%s', (method) => {
    for (const problem of [DECAY, OSCILLATOR, KEPLER]) {
      for (const h of [0.025, 0.05, 0.1]) {
        const y0 = problem.exact(0);
        // Loose tolerances so the single step of size h is accepted; the comparison is between norms.
        const rtol = 1;
        const atol = 1;
        const integrator = createIntegrator(problem.f, [0, h], y0, {
          method,
          firstStep: h,
          rtol,
          atol,
          maxStep: h,
        });
        expect(integrator.step().kind).toBe('accepted');
        const stepper = integrator.rawStepper as RungeKuttaStepper;
        expect(integrator.t).toBe(h);
        const exact = problem.exact(h);
        // True error in the same weighted RMS norm as the estimate.
        let s = 0;
        for (let i = 0; i < exact.length; i++) {
          const scale = atol + rtol * Math.max(Math.abs(y0[i]), Math.abs(integrator.y[i]));
          s += ((integrator.y[i] - exact[i]) / scale) ** 2;
        }
        const trueNorm = Math.sqrt(s / exact.length);
        // Below ~1e-14 both are roundoff.
        if (maxError(integrator.y, exact) < 1e-14) continue;
        expect(stepper.lastErrorNorm).toBeGreaterThan(trueNorm);
      }
    }
  });
});
