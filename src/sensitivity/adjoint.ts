/**
 * The continuous adjoint (Chen et al. 2018, Algorithm 2): the augmented state [z, a, a_θ] is integrated
 * backwards from the last output time with
 *   dz/dt = f(t, z),  da/dt = −aᵀ∂f/∂z,  da_θ/dt = −aᵀ∂f/∂θ,
 * one interval between output times at a time. At each output time z is reset to the state saved by the
 * forward pass (the backward reconstruction of z drifts) and a jumps by ∂L/∂z(tᵢ) (the paper's appendix).
 * Memory is O(1) in the number of steps. Every augmented evaluation is one VJP of f, which also yields f.
 *
 * The seminorm of Kidger, Chen & Lyons (2021, "Hey, that's not an ODE") leaves a_θ out of the step-size
 * error norm: a_θ is an integral that nothing else depends on, so its local error need not be controlled,
 * and the backward solve takes far fewer steps for the same gradient accuracy.
 */
import { createIntegrator } from '../ode/integrator.js';
import type { IntegratorOptions } from '../ode/options.js';
import type { ErrorNorm } from '../ode/types.js';
import { SensitivityError } from './errors.js';
import type { BackwardStats } from './stats.js';
import type { VectorField } from './vector-field.js';

/** RMS norm over the first `m` components only. */
function seminorm(m: number): ErrorNorm {
  return (err, scale) => {
    let s = 0;
    for (let i = 0; i < m; i++) {
      const r = err[i] / scale[i];
      s += r * r;
    }
    return Math.sqrt(s / m);
  };
}

export interface AdjointSolveOptions {
  readonly solver: IntegratorOptions;
  readonly seminorm: boolean;
  /** Jump times of the forward solve (discontinuities of f), honoured by the backward solves too. */
  readonly jumpTimes: Float64Array | undefined;
}

/**
 * Runs the backward solves. `outputs` and `cotangent` are T·n; on return `yBar` holds ∂L/∂y0 (including the
 * cotangent of output 0) and `thetaBar` (when given) ∂L/∂θ. Returns the number of floats of the augmented
 * state.
 */
export function adjointBackward(
  field: VectorField,
  times: Float64Array,
  outputs: Float64Array,
  cotangent: Float64Array,
  yBar: Float64Array,
  thetaBar: Float64Array | null,
  options: AdjointSolveOptions,
  stats: BackwardStats,
): number {
  const n = field.n;
  const p = thetaBar === null ? 0 : field.numParameters;
  const m = 2 * n + p;
  const state = new Float64Array(m);
  const last = times.length - 1;
  state.set(outputs.subarray(last * n, (last + 1) * n), 0);
  state.set(cotangent.subarray(last * n, (last + 1) * n), n);
  const dynamics = (t: number, s: Float64Array, ds: Float64Array): void => {
    const z = s.subarray(0, n);
    const a = s.subarray(n, 2 * n);
    const dz = ds.subarray(0, n);
    ds.fill(0, n);
    const daTheta = p === 0 ? null : ds.subarray(2 * n);
    field.vjp(t, z, a, ds.subarray(n, 2 * n), daTheta, dz);
    stats.nvjp++;
    for (let i = n; i < m; i++) ds[i] = -ds[i];
  };
  const solver: IntegratorOptions = options.seminorm
    ? { ...options.solver, norm: seminorm(2 * n) }
    : options.solver;
  // Each interval starts with the largest step of the previous one (as torchdiffeq does), which saves the
  // automatic initial-step selection (one evaluation of f, here one VJP) per output interval.
  let previousStep = 0;
  const fixedFirst = solver.firstStep !== undefined || solver.step !== undefined;
  for (let i = last; i >= 1; i--) {
    const tFrom = times[i];
    const tTo = times[i - 1];
    const lo = Math.min(tFrom, tTo);
    const hi = Math.max(tFrom, tTo);
    const jumps = options.jumpTimes?.filter((t) => t > lo && t < hi);
    const integrator = createIntegrator(dynamics, [tFrom, tTo], state, {
      ...solver,
      ...(jumps !== undefined && jumps.length > 0 ? { jumpTimes: jumps } : {}),
      ...(!fixedFirst && previousStep > 0 ? { firstStep: previousStep } : {}),
    });
    previousStep = 0;
    while (!integrator.finished) {
      const outcome = integrator.step();
      previousStep = Math.max(previousStep, Math.abs(integrator.t - integrator.tPrev));
      if (outcome.kind === 'failed') {
        throw new SensitivityError(
          'solveFailed',
          'adjointOptions',
          `the backward (adjoint) solve from t = ${tFrom} to ${tTo} failed at t = ${outcome.t}: ${outcome.message}`,
        );
      }
    }
    const st = integrator.stats;
    stats.nfe += st.nfe;
    stats.nsteps += st.nsteps;
    stats.naccept += st.naccept;
    stats.nreject += st.nreject;
    stats.njev += st.njev;
    stats.nlu += st.nlu;
    state.set(integrator.y);
    // Reset z to the forward value and add the cotangent of output i − 1.
    state.set(outputs.subarray((i - 1) * n, i * n), 0);
    const off = (i - 1) * n;
    for (let q = 0; q < n; q++) state[n + q] += cotangent[off + q];
  }
  yBar.set(state.subarray(n, 2 * n));
  if (thetaBar !== null) thetaBar.set(state.subarray(2 * n));
  return m;
}
