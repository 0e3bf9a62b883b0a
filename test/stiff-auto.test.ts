/** The auto switcher: stiff where the problem is stiff, non-stiff elsewhere. */
import { describe, expect, it } from 'vitest';
import {
  createAutoMethod,
  radauMethod,
  rodasMethod,
  STIFF_METHODS,
  stiffMethodsWithAuto,
} from '../src/ode/stiff/index.js';
import type { Dynamics } from '../src/ode/types.js';
import {
  ROBERTSON,
  SCIPY_COUNTS,
  solveDirect,
  TEST_DOPRI5,
  toleranceScaledError,
  VAN_DER_POL,
} from './stiff-problems.js';

const auto = createAutoMethod({ nonstiff: TEST_DOPRI5, stiff: radauMethod });

describe('auto method switching', () => {
  it('switches to the stiff method early on Robertson and solves it to 1e11', () => {
    const { rtol, atol } = ROBERTSON;
    const r = solveDirect(auto, ROBERTSON.f, ROBERTSON.t0, ROBERTSON.t1, ROBERTSON.y0, {
      rtol,
      atol,
      jacobian: ROBERTSON.jacobian,
    });
    expect(r.outcome.kind).toBe('accepted');
    expect(toleranceScaledError(ROBERTSON, r.y, rtol, atol)).toBeLessThan(10);
    const switches = r.stats.switches ?? [];
    expect(switches.length).toBeGreaterThanOrEqual(1);
    expect(switches[0].to).toBe('radau');
    // Stiffness sets in within the first second (the fast transient lasts ~1e-3).
    expect(switches[0].t).toBeLessThan(1);
    expect(switches[switches.length - 1].to).toBe('radau');
    expect(r.stats.naccept).toBeLessThan(1.5 * SCIPY_COUNTS.robertson.LSODA.steps);
  });

  it('stays non-stiff on a non-stiff problem (Lotka–Volterra)', () => {
    const f: Dynamics = (_t, y, d) => {
      d[0] = 1.5 * y[0] - y[0] * y[1];
      d[1] = -3 * y[1] + y[0] * y[1];
    };
    const r = solveDirect(auto, f, 0, 30, [1, 1], { rtol: 1e-8, atol: 1e-10 });
    expect(r.outcome.kind).toBe('accepted');
    expect(r.stats.switches ?? []).toEqual([]);
    expect(r.stats.njev).toBe(0);
    expect(r.stats.nlu).toBe(0);
  });

  it('switches back and forth on Van der Pol (stiff on the slow branches, non-stiff in the jumps)', () => {
    const { rtol, atol } = VAN_DER_POL;
    const r = solveDirect(auto, VAN_DER_POL.f, 0, VAN_DER_POL.t1, VAN_DER_POL.y0, {
      rtol,
      atol,
      jacobian: VAN_DER_POL.jacobian,
    });
    expect(r.outcome.kind).toBe('accepted');
    expect(toleranceScaledError(VAN_DER_POL, r.y, rtol, atol)).toBeLessThan(10);
    const to = (r.stats.switches ?? []).map((s) => s.to);
    expect(to[0]).toBe('radau');
    expect(to).toContain('dopri5-test');
    // Never two switches in the same direction in a row.
    for (let i = 1; i < to.length; i++) expect(to[i]).not.toBe(to[i - 1]);
    // Cheaper than radau alone on this problem.
    const radauOnly = solveDirect(radauMethod, VAN_DER_POL.f, 0, VAN_DER_POL.t1, VAN_DER_POL.y0, {
      rtol,
      atol,
      jacobian: VAN_DER_POL.jacobian,
    });
    expect(r.stats.nfe).toBeLessThan(radauOnly.stats.nfe);
  });

  it('uses stiffLoose only with an analytic Jacobian and every rtol at least looseRtol', () => {
    const withLoose = createAutoMethod({
      nonstiff: TEST_DOPRI5,
      stiff: radauMethod,
      stiffLoose: rodasMethod,
      looseRtol: 1e-5,
    });
    const targets = (rtol: number) => {
      const atol = (ROBERTSON.atol * rtol) / ROBERTSON.rtol;
      const r = solveDirect(withLoose, ROBERTSON.f, ROBERTSON.t0, ROBERTSON.t1, ROBERTSON.y0, {
        rtol,
        atol,
        jacobian: ROBERTSON.jacobian,
      });
      expect(r.outcome.kind).toBe('accepted');
      expect(toleranceScaledError(ROBERTSON, r.y, rtol, atol)).toBeLessThan(10);
      return new Set((r.stats.switches ?? []).filter((s) => s.to !== 'dopri5-test').map((s) => s.to));
    };
    expect(targets(1e-4)).toEqual(new Set(['rodas']));
    expect(targets(1e-6)).toEqual(new Set(['radau']));
    // Without an analytic Jacobian the Rosenbrock method would pay n evaluations of f per step: radau.
    const numeric = solveDirect(withLoose, ROBERTSON.f, ROBERTSON.t0, ROBERTSON.t1, ROBERTSON.y0, {
      rtol: 1e-4,
      atol: 1e-8,
    });
    expect(numeric.outcome.kind).toBe('accepted');
    expect(new Set((numeric.stats.switches ?? []).map((s) => s.to))).not.toContain('rodas');
    expect((numeric.stats.switches ?? []).map((s) => s.to)).toContain('radau');
    expect(() => createAutoMethod({ nonstiff: TEST_DOPRI5, stiff: radauMethod, looseRtol: 0 })).toThrow(
      /looseRtol must be a positive finite number, got 0/,
    );
    expect(() =>
      createAutoMethod({ nonstiff: TEST_DOPRI5, stiff: radauMethod, stiffLoose: TEST_DOPRI5 }),
    ).toThrow(/stiffLoose must be a stiff method, got 'dopri5-test'/);
  });

  it('rejects a method pair in the wrong roles', () => {
    expect(() => createAutoMethod({ nonstiff: radauMethod, stiff: TEST_DOPRI5 })).toThrow(
      /non-stiff and a stiff method.*nonstiff='radau'/,
    );
  });
});

describe('registry wiring', () => {
  it("stiffMethodsWithAuto adds 'auto' to the stiff methods, all with distinct names", () => {
    const names = stiffMethodsWithAuto(TEST_DOPRI5).map((m) => m.name);
    expect(names).toEqual([...STIFF_METHODS.map((m) => m.name), 'auto']);
    expect(new Set(names).size).toBe(names.length);
    expect(STIFF_METHODS.every((m) => m.stiff && !m.fixedStep)).toBe(true);
  });
});
