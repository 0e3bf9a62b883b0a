/**
 * Events located on the dense output: accuracy, direction, terminal counts, several events in one step,
 * backward solves, bad event functions, and the bouncing-ball example (terminal event and restart).
 */
import { describe, expect, it } from 'vitest';
import { simulateBouncingBall } from '../examples/bouncing-ball.js';
import { type MethodName, solveIvp } from '../src/ode/index.js';
import { DECAY, maxError, OSCILLATOR } from './ode-problems.js';

describe('event location', () => {
  it.each(['dopri5', 'tsit5', 'dopri8', 'bosh3', 'adams'] as MethodName[])(
    '%s locates y = 0.5 on exponential decay to the tolerance',
    (method) => {
      const r = solveIvp(DECAY.f, [0, 3], [1], {
        method,
        rtol: 1e-10,
        atol: 1e-12,
        events: [{ fn: (_t, y) => y[0] - 0.5 }],
      });
      const exact = Math.log(2) / 0.8;
      expect(r.tEvents[0].length).toBe(1);
      expect(Math.abs(r.tEvents[0][0] - exact)).toBeLessThan(1e-8);
      expect(Math.abs(r.yEvents[0][0][0] - 0.5)).toBeLessThan(1e-9);
      // Not terminal: the solve continues to t1.
      expect(r.t[r.t.length - 1]).toBe(3);
      expect(r.status.kind).toBe('success');
    },
  );

  const sine = { fn: (_t: number, y: Float64Array) => y[0] };
  it('filters crossings by direction (y = sin t on [0, 10]; the zero at t0 is not a crossing)', () => {
    const run = (direction: -1 | 0 | 1) =>
      solveIvp(OSCILLATOR.f, [0, 10], [0, 1], { rtol: 1e-10, atol: 1e-12, events: [{ ...sine, direction }] })
        .tEvents[0];
    const close = (actual: number[], expected: number[]) => {
      expect(actual.length).toBe(expected.length);
      actual.forEach((t, i) => {
        expect(Math.abs(t - expected[i])).toBeLessThan(1e-8);
      });
    };
    close(run(0), [Math.PI, 2 * Math.PI, 3 * Math.PI]);
    close(run(1), [2 * Math.PI]);
    close(run(-1), [Math.PI, 3 * Math.PI]);
  });

  it('stops at the n-th occurrence of a terminal event and ends the output there', () => {
    const r = solveIvp(OSCILLATOR.f, [0, 20], [0, 1], {
      rtol: 1e-10,
      atol: 1e-12,
      events: [{ ...sine, terminal: 2 }],
      tEval: [0, 1, 2, 3, 4, 5, 19],
    });
    expect(r.status.kind).toBe('terminalEvent');
    expect(r.success).toBe(true);
    const tStop = (r.status as { t: number }).t;
    expect(Math.abs(tStop - 2 * Math.PI)).toBeLessThan(1e-8);
    expect(r.t).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.message).toMatch(/terminal event \(options.events\[0\]\) occurred at t = 6.28/);
    expect(maxError(r.yEvents[0][1], [0, 1])).toBeLessThan(1e-8);
  });

  it('ends the step output at a terminal event when there is no tEval', () => {
    const r = solveIvp(DECAY.f, [0, 10], [1], { events: [{ fn: (_t, y) => y[0] - 0.25, terminal: true }] });
    const tStop = r.t[r.t.length - 1];
    expect(tStop).toBe(r.tEvents[0][0]);
    expect(r.y[r.y.length - 1][0]).toBeCloseTo(0.25, 10);
  });

  it('orders several events inside one step and stops at the first terminal one', () => {
    const r = solveIvp(DECAY.f, [0, 5], [1], {
      maxStep: 10,
      rtol: 1e-3,
      events: [
        { fn: (_t, y) => y[0] - 0.3, terminal: true },
        { fn: (_t, y) => y[0] - 0.6 },
        { fn: (_t, y) => y[0] - 0.1 },
      ],
    });
    expect(r.tEvents[1].length).toBe(1);
    expect(r.tEvents[0].length).toBe(1);
    expect(r.tEvents[1][0]).toBeLessThan(r.tEvents[0][0]);
    // The third event lies after the terminal one and is never reached.
    expect(r.tEvents[2]).toEqual([]);
    expect(r.status).toMatchObject({ kind: 'terminalEvent', event: 0 });
  });

  it('works backwards in time (direction is along the integration)', () => {
    const r = solveIvp(DECAY.f, [3, 0], [Math.exp(-2.4)], {
      rtol: 1e-10,
      atol: 1e-12,
      events: [{ fn: (_t, y) => y[0] - 0.5, direction: 1, terminal: true }],
    });
    expect(Math.abs(r.tEvents[0][0] - Math.log(2) / 0.8)).toBeLessThan(1e-8);
    expect(r.status.kind).toBe('terminalEvent');
  });

  it('rejects an event function that returns NaN, naming it and the time', () => {
    expect(() => solveIvp(DECAY.f, [0, 1], [1], { events: [{ fn: () => Number.NaN }] })).toThrow(
      /options.events\[0\].fn returned NaN at t = 0/,
    );
  });
});

describe('bouncing ball example', () => {
  it('bounces at the analytic times with speeds scaled by the restitution', () => {
    const g = 9.81;
    const e = 0.8;
    const h = 10;
    const r = simulateBouncingBall({ height: h, gravity: g, restitution: e, tEnd: 10 });
    // First impact after free fall; each later flight lasts 2·v_k/g with v_k = e^k·v_0.
    const v0 = Math.sqrt(2 * g * h);
    let t = Math.sqrt((2 * h) / g);
    const expected: number[] = [];
    for (let k = 0; t < 10; k++) {
      expected.push(t);
      t += (2 * e ** (k + 1) * v0) / g;
    }
    expect(r.bounces.length).toBe(expected.length);
    r.bounces.forEach((tb, i) => {
      expect(Math.abs(tb - expected[i])).toBeLessThan(1e-8);
    });
    r.impactSpeeds.forEach((v, i) => {
      expect(Math.abs(v - e ** i * v0)).toBeLessThan(1e-8);
    });
    // The ball never goes (noticeably) below the ground.
    expect(Math.min(...r.height)).toBeGreaterThan(-1e-9);
  });
});
