/**
 * bdf, radau and rodas on the classic stiff problems: accuracy against reference values, work against
 * SciPy's counts, a linear stiff system against its matrix exponential (end point and dense output), and
 * the failure outcomes.
 */
import { describe, expect, it } from 'vitest';
import type { LinearSolverFactory } from '../src/linalg/index.js';
import {
  bdfMethod,
  createBdfMethod,
  createRadauMethod,
  createRodasMethod,
  radauMethod,
  rodasMethod,
} from '../src/ode/stiff/index.js';
import { emptyStats, type Interpolant, type MethodFactory } from '../src/ode/types.js';
import {
  LINEAR_A,
  linearExact,
  linearF,
  rmsNorm,
  SCIPY_BEST_AT,
  SCIPY_COUNTS,
  STIFF_PROBLEMS,
  solveDirect,
  toleranceScaledError,
} from './stiff-problems.js';

interface MethodCase {
  readonly method: MethodFactory;
  /** Largest accepted error at t1, in units of atol + rtol·|ref|. */
  readonly errorBound: number;
  /** SciPy method whose step counts bound ours. */
  readonly peer: 'Radau' | 'BDF';
}

// Global errors of one-step methods with local error control stay within a few tolerance units here; BDF's
// are larger, as for SciPy's BDF at the same settings (up to 89 units on Van der Pol, 68 on the Oregonator).
const CASES: readonly MethodCase[] = [
  { method: radauMethod, errorBound: 10, peer: 'Radau' },
  { method: bdfMethod, errorBound: 150, peer: 'BDF' },
  { method: rodasMethod, errorBound: 10, peer: 'BDF' },
];

describe.each(CASES)('$method.name on the stiff test set', ({ method, errorBound, peer }) => {
  it.each(STIFF_PROBLEMS)('$name reaches the reference value at t1 with SciPy-like work', (problem) => {
    const { rtol, atol } = problem;
    const result = solveDirect(method, problem.f, problem.t0, problem.t1, problem.y0, {
      rtol,
      atol,
      jacobian: problem.jacobian,
    });
    expect(result.outcome.kind).toBe('accepted');
    expect(result.t).toBe(problem.t1);
    expect(toleranceScaledError(problem, result.y, rtol, atol)).toBeLessThan(errorBound);
    const scipy = SCIPY_COUNTS[problem.name];
    const { stats } = result;
    expect(stats.nsteps).toBe(stats.naccept + stats.nreject);
    expect(stats.naccept).toBeLessThanOrEqual(1.5 * Math.max(scipy[peer].steps, scipy.Radau.steps) + 20);
    expect(stats.njev).toBeGreaterThan(0);
    expect(stats.nlu).toBeGreaterThan(0);
    if (method === bdfMethod) {
      // The multistep method is held to SciPy's best per counter (LSODA for f, BDF for Jacobians and LUs).
      expect(stats.nfe).toBeLessThanOrEqual(1.5 * Math.min(scipy.LSODA.nfe, scipy.BDF.nfe));
      expect(stats.njev).toBeLessThanOrEqual(1.5 * scipy.BDF.njev + 5);
      expect(stats.nlu).toBeLessThanOrEqual(1.5 * scipy.BDF.nlu);
    }
    if (method === radauMethod) {
      expect(stats.nfe).toBeLessThanOrEqual(1.5 * scipy.Radau.nfe);
      expect(stats.njev).toBeLessThanOrEqual(1.5 * scipy.Radau.njev + 5);
    }
  });

  it('works with a finite-difference Jacobian (Robertson and HIRES)', () => {
    for (const problem of [STIFF_PROBLEMS[0], STIFF_PROBLEMS[2]]) {
      const { rtol, atol } = problem;
      const analytic = solveDirect(method, problem.f, problem.t0, problem.t1, problem.y0, {
        rtol,
        atol,
        jacobian: problem.jacobian,
      });
      const numeric = solveDirect(method, problem.f, problem.t0, problem.t1, problem.y0, { rtol, atol });
      expect(numeric.outcome.kind).toBe('accepted');
      expect(toleranceScaledError(problem, numeric.y, rtol, atol)).toBeLessThan(errorBound);
      // Same step sequence up to a few steps, and each Jacobian costs n extra evaluations of f.
      expect(Math.abs(numeric.stats.naccept - analytic.stats.naccept)).toBeLessThanOrEqual(
        0.1 * analytic.stats.naccept + 10,
      );
      expect(numeric.stats.nfe).toBeGreaterThan(analytic.stats.nfe);
    }
  });

  it('matches the matrix exponential on a linear system with eigenvalues −1, −100, −1e4', () => {
    const y0 = [1, 2, -1];
    const rtol = 1e-7;
    const atol = 1e-10;
    const jacobian = (_t: number, _y: Float64Array, j: Float64Array) => j.set(LINEAR_A);
    const n = 3;
    const stats = emptyStats();
    const stepper = method.create(linearF, 0, Float64Array.from(y0), 5, {
      rtol: new Float64Array(n).fill(rtol),
      atol: new Float64Array(n).fill(atol),
      norm: rmsNorm,
      firstStep: undefined,
      maxStep: Number.POSITIVE_INFINITY,
      fixedStep: undefined,
      jacobian,
      stats,
    });
    const out = new Float64Array(n);
    let worstDense = 0;
    while (stepper.t < 5) {
      expect(stepper.step(5).kind).toBe('accepted');
      const piece = stepper.interpolant();
      expect(piece.t0).toBe(stepper.tPrev);
      expect(piece.t1).toBe(stepper.t);
      // Dense output at interior points once the fast transients have decayed.
      if (piece.t0 > 0.01) {
        for (const s of [0.25, 0.5, 0.75]) {
          const t = piece.t0 + s * (piece.t1 - piece.t0);
          piece.evaluate(t, out);
          const exact = linearExact(t, y0);
          for (let i = 0; i < n; i++) {
            worstDense = Math.max(
              worstDense,
              Math.abs(out[i] - exact[i]) / (atol + rtol * Math.abs(exact[i])),
            );
          }
        }
      }
      // The interpolant reproduces the step end exactly.
      piece.evaluate(piece.t1, out);
      for (let i = 0; i < n; i++) expect(out[i]).toBeCloseTo(stepper.y[i], 12);
    }
    const exact = linearExact(5, y0);
    for (let i = 0; i < n; i++) {
      expect(Math.abs(stepper.y[i] - exact[i])).toBeLessThan(20 * (atol + rtol * Math.abs(exact[i])));
    }
    expect(worstDense).toBeLessThan(100);
    // Stiff decay must not force tiny steps: far fewer than the ~1e4·5/3.3 an explicit method would need.
    expect(stats.naccept).toBeLessThan(400);
  });

  it('freezes its dense output into a piece that matches it and outlives the step', () => {
    const y0 = [1, 2, -1];
    const n = 3;
    const stepper = method.create(linearF, 0, Float64Array.from(y0), 2, {
      rtol: new Float64Array(n).fill(1e-6),
      atol: new Float64Array(n).fill(1e-9),
      norm: rmsNorm,
      firstStep: undefined,
      maxStep: Number.POSITIVE_INFINITY,
      fixedStep: undefined,
      jacobian: undefined,
      stats: emptyStats(),
    });
    const live = new Float64Array(n);
    const frozenOut = new Float64Array(n);
    const kept: { piece: Interpolant; samples: Float64Array[] }[] = [];
    const fractions = [0, 0.3, 0.7, 1];
    while (stepper.t < 2) {
      expect(stepper.step(2).kind).toBe('accepted');
      const piece = stepper.interpolant();
      const frozen = piece.freeze?.();
      expect(frozen).toBeDefined();
      if (frozen === undefined) return;
      expect(frozen.t0).toBe(piece.t0);
      expect(frozen.t1).toBe(piece.t1);
      const samples: Float64Array[] = [];
      for (const s of fractions) {
        const t = piece.t0 + s * (piece.t1 - piece.t0);
        piece.evaluate(t, live);
        frozen.evaluate(t, frozenOut);
        for (let i = 0; i < n; i++) {
          expect(Math.abs(frozenOut[i] - live[i])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(live[i])));
        }
        samples.push(Float64Array.from(frozenOut));
      }
      kept.push({ piece: frozen, samples });
    }
    expect(kept.length).toBeGreaterThan(5);
    // After the stepper has moved on, every frozen piece still gives the values of its own step.
    for (const { piece, samples } of kept) {
      fractions.forEach((s, q) => {
        piece.evaluate(piece.t0 + s * (piece.t1 - piece.t0), frozenOut);
        for (let i = 0; i < n; i++) expect(frozenOut[i]).toBe(samples[q][i]);
      });
    }
  });

  it('restarts from a new state and never steps past tLimit', () => {
    const y0 = [1, 2, -1];
    const result = solveDirect(method, linearF, 0, 1, y0, { rtol: 1e-6, atol: 1e-9 });
    expect(result.t).toBe(1);
    const n = 3;
    const stepper = method.create(linearF, 0, Float64Array.from(y0), 2, {
      rtol: new Float64Array(n).fill(1e-6),
      atol: new Float64Array(n).fill(1e-9),
      norm: rmsNorm,
      firstStep: undefined,
      maxStep: 0.05,
      fixedStep: undefined,
      jacobian: undefined,
      stats: emptyStats(),
    });
    for (const limit of [0.3, 0.30001, 1]) {
      while (stepper.t < limit) {
        expect(stepper.step(limit).kind).toBe('accepted');
        expect(stepper.t).toBeLessThanOrEqual(limit);
        expect(stepper.t - stepper.tPrev).toBeLessThanOrEqual(0.05 * (1 + 1e-12));
      }
      expect(stepper.t).toBe(limit);
    }
    // Jump back in state (as after an event) and continue: the result follows the new initial value.
    const y1 = Float64Array.from([0.5, 0.5, 0.5]);
    stepper.restart(1, y1);
    while (stepper.t < 2) expect(stepper.step(2).kind).toBe('accepted');
    const exact = linearExact(1, [0.5, 0.5, 0.5]);
    for (let i = 0; i < n; i++) expect(stepper.y[i]).toBeCloseTo(exact[i], 5);
  });
});

describe('work across tolerances', () => {
  const rtols = { '1e-4': 1e-4, '1e-8': 1e-8 } as const;
  it.each(STIFF_PROBLEMS)(
    '$name: the cheapest method stays within 1.5× of SciPy’s best NFE and njev at rtol 1e-4 and 1e-8',
    (problem) => {
      for (const [key, rtol] of Object.entries(rtols) as ['1e-4' | '1e-8', number][]) {
        const atol = (problem.atol * rtol) / problem.rtol;
        let nfe = Number.POSITIVE_INFINITY;
        let njev = Number.POSITIVE_INFINITY;
        for (const { method, errorBound } of CASES) {
          const r = solveDirect(method, problem.f, problem.t0, problem.t1, problem.y0, {
            rtol,
            atol,
            jacobian: problem.jacobian,
          });
          expect(r.outcome.kind).toBe('accepted');
          // BDF's global error grows in tolerance units as rtol shrinks, like SciPy's (Van der Pol at 1e-8:
          // 170 units for SciPy's BDF, 190 for LSODA).
          const bound = method === bdfMethod ? 2 * errorBound : errorBound;
          expect(toleranceScaledError(problem, r.y, rtol, atol)).toBeLessThan(bound);
          nfe = Math.min(nfe, r.stats.nfe);
          njev = Math.min(njev, r.stats.njev);
        }
        const best = SCIPY_BEST_AT[problem.name][key];
        expect(nfe).toBeLessThanOrEqual(1.5 * best.nfe);
        expect(njev).toBeLessThanOrEqual(1.5 * best.njev);
      }
    },
  );

  it.each(STIFF_PROBLEMS)('$name: bdf stays accurate at loose tolerances (rtol 1e-3 and 3e-4)', (problem) => {
    // Corrector iterations stopped too early at loose tolerances can let the solution drift off (Robertson's
    // y₁ negative, Van der Pol stepping over a relaxation jump) while the error estimate looks fine.
    for (const rtol of [1e-3, 3e-4]) {
      const atol = (problem.atol * rtol) / problem.rtol;
      const r = solveDirect(bdfMethod, problem.f, problem.t0, problem.t1, problem.y0, {
        rtol,
        atol,
        jacobian: problem.jacobian,
      });
      expect(r.outcome.kind).toBe('accepted');
      expect(toleranceScaledError(problem, r.y, rtol, atol)).toBeLessThan(150);
    }
  });
});

/** A linear-solver backend that fails or misbehaves on purpose, to reach the failure paths. */
function brokenSolver(kind: 'singular' | 'wrong'): LinearSolverFactory {
  return (n, complex) => ({
    n,
    complex,
    factor: () => kind !== 'singular',
    // Returns −50·b instead of the solution: every Newton correction points the wrong way and grows.
    solve: (re: Float64Array, im?: Float64Array) => {
      for (let i = 0; i < n; i++) re[i] *= -50;
      if (im) for (let i = 0; i < n; i++) im[i] *= -50;
    },
  });
}

describe('failure outcomes', () => {
  it('reports a singular iteration matrix with the time and the cause', () => {
    const methods = [
      createBdfMethod({ linearSolver: brokenSolver('singular') }),
      createRadauMethod({ linearSolver: brokenSolver('singular') }),
      createRodasMethod({ linearSolver: brokenSolver('singular') }),
    ];
    for (const method of methods) {
      const result = solveDirect(method, linearF, 0.25, 1, [1, 2, -1], { rtol: 1e-6, atol: 1e-9 });
      expect(result.outcome).toMatchObject({ kind: 'failed', code: 'singularMatrix' });
      if (result.outcome.kind === 'failed') {
        expect(result.outcome.message).toMatch(new RegExp(`^${method.name}: at t = 0\\.25, .*singular`));
      }
    }
  });

  it('reports a Newton iteration that keeps diverging after step reductions', () => {
    for (const method of [
      createBdfMethod({ linearSolver: brokenSolver('wrong') }),
      createRadauMethod({ linearSolver: brokenSolver('wrong') }),
    ]) {
      const result = solveDirect(method, linearF, 0.25, 1, [1, 2, -1], { rtol: 1e-6, atol: 1e-9 });
      expect(result.outcome).toMatchObject({ kind: 'failed', code: 'newtonDiverged' });
      if (result.outcome.kind === 'failed') {
        expect(result.outcome.message).toMatch(/at t = 0\.25, .*Newton iteration diverged/);
      }
    }
  });

  it('reports a non-finite Jacobian', () => {
    for (const method of [bdfMethod, radauMethod, rodasMethod]) {
      const result = solveDirect(method, linearF, 0, 1, [1, 2, -1], {
        rtol: 1e-6,
        atol: 1e-9,
        jacobian: (_t, _y, j) => j.fill(Number.NaN),
      });
      expect(result.outcome).toMatchObject({ kind: 'failed', code: 'nonFiniteDerivative' });
      if (result.outcome.kind === 'failed') expect(result.outcome.message).toMatch(/t = 0\b.*user Jacobian/);
    }
  });

  it('reports non-finite derivatives', () => {
    for (const method of [bdfMethod, radauMethod, rodasMethod]) {
      const result = solveDirect(method, (t, y, d) => void (d[0] = t > 0.5 ? Number.NaN : -y[0]), 0, 1, [1], {
        rtol: 1e-6,
        atol: 1e-9,
      });
      expect(result.outcome).toMatchObject({ kind: 'failed' });
      if (result.outcome.kind === 'failed') {
        expect(result.outcome.code).toBe('nonFiniteDerivative');
        expect(result.outcome.message).toMatch(/t = 0\.[45]/);
      }
    }
  });

  it('handles an empty state', () => {
    for (const method of [bdfMethod, radauMethod, rodasMethod]) {
      const result = solveDirect(method, () => {}, 0, 1, [], { rtol: 1e-6, atol: 1e-9 });
      expect(result.outcome.kind).toBe('accepted');
      expect(result.t).toBe(1);
    }
  });
});
