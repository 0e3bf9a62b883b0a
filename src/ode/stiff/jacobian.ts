/**
 * Jacobian ∂f/∂y for the implicit methods: the user's analytic Jacobian when given, otherwise forward
 * differences, one column per evaluation of f.
 *
 * The increment for column j is δ_j = sqrt(eps)·max(|y_j|, atol_j): it scales like sqrt(eps)·|y_j| for
 * ordinary components, so truncation and roundoff errors balance, and for components near zero it falls to
 * the size below which the user declared values negligible. (A fixed floor such as RADAU5's sqrt(eps·1e-5)
 * is far larger than tiny-but-important components like Robertson's y₂ ≈ 1e-13 and doubles the step
 * count there.) The
 * increment is then rounded so that y_j + δ_j − y_j is exactly δ_j. The evaluations of f are counted by the
 * driver (it wraps f), so this module only counts njev.
 */
import type { Dynamics, JacobianFn, SolverStats } from '../types.js';
import { allFinite, EPS } from './common.js';

const SQRT_EPS = Math.sqrt(EPS);

export class JacobianEvaluator {
  /** Row-major n×n; valid after {@link evaluate}. */
  readonly jac: Float64Array;
  private readonly yWork: Float64Array;
  private readonly fWork: Float64Array;

  constructor(
    private readonly f: Dynamics,
    private readonly n: number,
    private readonly user: JacobianFn | undefined,
    private readonly stats: SolverStats,
    /** Per-component floor of the increment scale (the absolute tolerance). */
    private readonly threshold: Float64Array,
  ) {
    this.jac = new Float64Array(n * n);
    this.yWork = new Float64Array(n);
    this.fWork = new Float64Array(n);
  }

  /** True when the Jacobian comes from finite differences (n evaluations of f each time). */
  get numerical(): boolean {
    return this.user === undefined;
  }

  /**
   * Evaluate J at (t, y) into {@link jac}; `fy` must hold f(t, y) (used by finite differences).
   * Returns false when an entry is not finite (the caller reports it: no LU can fix that).
   */
  evaluate(t: number, y: Float64Array, fy: Float64Array): boolean {
    const { n, jac } = this;
    this.stats.njev++;
    if (this.user !== undefined) {
      this.user(t, y, jac);
      return allFinite(jac);
    }
    const yw = this.yWork;
    const fw = this.fWork;
    yw.set(y);
    for (let j = 0; j < n; j++) {
      const yj = y[j];
      let delta = SQRT_EPS * Math.max(Math.abs(yj), this.threshold[j]);
      if (delta === 0) delta = SQRT_EPS * 1e-5;
      if (yj < 0) delta = -delta;
      yw[j] = yj + delta;
      delta = yw[j] - yj;
      this.f(t, yw, fw);
      const inv = 1 / delta;
      for (let i = 0; i < n; i++) jac[i * n + j] = (fw[i] - fy[i]) * inv;
      yw[j] = yj;
    }
    return allFinite(jac);
  }

  /** Failure message for a non-finite Jacobian. */
  nonFiniteMessage(): string {
    return this.user !== undefined
      ? 'the user Jacobian returned a non-finite entry'
      : 'f is not finite near y, so its finite-difference Jacobian is not either';
  }
}

/**
 * ∂f/∂t at (t, y) by one forward difference (Rosenbrock methods need it for non-autonomous problems).
 * `fy` holds f(t, y); the result goes into `out`.
 */
export function timeDerivative(
  f: Dynamics,
  t: number,
  y: Float64Array,
  fy: Float64Array,
  out: Float64Array,
): void {
  let delta = Math.sqrt(EPS * Math.max(1e-5, Math.abs(t)));
  delta = t + delta - t;
  f(t + delta, y, out);
  const inv = 1 / delta;
  for (let i = 0; i < out.length; i++) out[i] = (out[i] - fy[i]) * inv;
}
