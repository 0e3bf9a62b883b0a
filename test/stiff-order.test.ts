/**
 * Observed convergence order of each stiff method on the mildly stiff Prothero–Robinson problem
 * y' = λ·(y − sin t) + cos t, y(0) = 0 (exact solution sin t), with constant steps (`fixedStep`).
 * The order is the least-squares slope of log error against log h and must match the method's order ±0.3.
 */
import { describe, expect, it } from 'vitest';
import { createBdfMethod, radauMethod, rodasMethod } from '../src/ode/stiff/index.js';
import type { Dynamics, JacobianFn, MethodFactory } from '../src/ode/types.js';
import { solveDirect } from './stiff-problems.js';

const T_END = 2;

function slope(hs: readonly number[], errors: readonly number[]): number {
  const x = hs.map(Math.log);
  const y = errors.map((e) => Math.log(e));
  const mx = x.reduce((a, b) => a + b) / x.length;
  const my = y.reduce((a, b) => a + b) / y.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return num / den;
}

/** Prothero–Robinson with time carried as a second state (τ' = 1), so ∂f/∂t = 0 exactly. */
function protheroRobinson(lambda: number): { f: Dynamics; jacobian: JacobianFn } {
  return {
    f: (_t, y, d) => {
      d[0] = lambda * (y[0] - Math.sin(y[1])) + Math.cos(y[1]);
      d[1] = 1;
    },
    jacobian: (_t, y, j) => {
      j[0] = lambda;
      j[1] = -lambda * Math.cos(y[1]) - Math.sin(y[1]);
      j[2] = 0;
      j[3] = 0;
    },
  };
}

function observedOrder(method: MethodFactory, lambda: number, hs: readonly number[]): number {
  const { f, jacobian } = protheroRobinson(lambda);
  const errors = hs.map((h) => {
    const r = solveDirect(method, f, 0, T_END, [0, 0], { rtol: 1e-13, atol: 1e-13, jacobian, fixedStep: h });
    expect(r.outcome.kind).toBe('accepted');
    expect(r.stats.naccept).toBe(Math.ceil(T_END / h - 1e-9));
    return Math.abs(r.y[0] - Math.sin(T_END));
  });
  return slope(hs, errors);
}

describe('observed order on Prothero–Robinson', () => {
  it('radau has order 5', () => {
    expect(Math.abs(observedOrder(radauMethod, -10, [0.1, 0.05, 0.025]) - 5)).toBeLessThan(0.3);
  });

  it('rodas has order 4', () => {
    expect(Math.abs(observedOrder(rodasMethod, -5, [0.025, 0.0125, 0.00625]) - 4)).toBeLessThan(0.3);
  });

  it.each([1, 2, 3, 4, 5])('bdf capped at order %i has that order', (k) => {
    const hs = k === 5 ? [0.04, 0.02, 0.01] : [0.02, 0.01, 0.005];
    const order = observedOrder(createBdfMethod({ maxOrder: k }), -10, hs);
    expect(Math.abs(order - k)).toBeLessThan(0.3);
  });

  it('rodas keeps its accuracy on a non-autonomous problem (finite-difference ∂f/∂t)', () => {
    // y' = cos(t)·y, y(0) = 1: y = exp(sin t). Errors shrink at order 4 until the ∂f/∂t floor (~1e-11).
    const f: Dynamics = (t, y, d) => void (d[0] = Math.cos(t) * y[0]);
    const jacobian: JacobianFn = (t, _y, j) => void (j[0] = Math.cos(t));
    const hs = [0.05, 0.025, 0.0125];
    const errors = hs.map((h) => {
      const r = solveDirect(rodasMethod, f, 0, 2, [1], { rtol: 1e-13, atol: 1e-13, jacobian, fixedStep: h });
      return Math.abs(r.y[0] - Math.exp(Math.sin(2)));
    });
    expect(Math.abs(slope(hs, errors) - 4)).toBeLessThan(0.3);
  });
});
