/**
 * Classic stiff test problems shared by the stiff-solver tests and bench/stiff.bench.ts (the SciPy side is
 * bench/stiff_scipy.py), with analytic Jacobians and reference values at t1.
 *
 * Reference values: SciPy 1.17 `solve_ivp(method='Radau', rtol=1e-13, atol=1e-20)` with the analytic
 * Jacobian (`python3 bench/stiff_scipy.py reference`). For Robertson, HIRES and the Oregonator they agree
 * with the published values of Hairer & Wanner's test set (Solving ODEs II, §IV.10; the "Test Set for IVP
 * Solvers", Univ. of Bari) to 10+ digits.
 */
import {
  type Dynamics,
  emptyStats,
  type JacobianFn,
  type MethodFactory,
  type SolverStats,
  type StepOutcome,
} from '../src/ode/types.js';

export interface StiffProblem {
  readonly name: string;
  readonly f: Dynamics;
  readonly jacobian: JacobianFn;
  readonly t0: number;
  readonly t1: number;
  readonly y0: readonly number[];
  readonly reference: readonly number[];
  /** Tolerances used by the tests (the bench sweeps around them). */
  readonly rtol: number;
  readonly atol: number;
}

export const ROBERTSON: StiffProblem = {
  name: 'robertson',
  f: (_t, y, d) => {
    d[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
    d[1] = 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] * y[1];
    d[2] = 3e7 * y[1] * y[1];
  },
  jacobian: (_t, y, j) => {
    j[0] = -0.04;
    j[1] = 1e4 * y[2];
    j[2] = 1e4 * y[1];
    j[3] = 0.04;
    j[4] = -1e4 * y[2] - 6e7 * y[1];
    j[5] = -1e4 * y[1];
    j[6] = 0;
    j[7] = 6e7 * y[1];
    j[8] = 0;
  },
  t0: 0,
  t1: 1e11,
  y0: [1, 0, 0],
  reference: [2.083340149699241e-8, 8.33336077032652e-14, 0.9999999791665212],
  rtol: 1e-6,
  atol: 1e-10,
};

const MU = 1000;

export const VAN_DER_POL: StiffProblem = {
  name: 'vanDerPol',
  f: (_t, y, d) => {
    d[0] = y[1];
    d[1] = MU * (1 - y[0] * y[0]) * y[1] - y[0];
  },
  jacobian: (_t, y, j) => {
    j[0] = 0;
    j[1] = 1;
    j[2] = -2 * MU * y[0] * y[1] - 1;
    j[3] = MU * (1 - y[0] * y[0]);
  },
  t0: 0,
  t1: 3000,
  y0: [2, 0],
  reference: [-1.5106069367440997, 0.0011783800007309348],
  rtol: 1e-6,
  atol: 1e-6,
};

export const HIRES: StiffProblem = {
  name: 'hires',
  f: (_t, y, d) => {
    const [y1, y2, y3, y4, y5, y6, y7, y8] = y;
    d[0] = -1.71 * y1 + 0.43 * y2 + 8.32 * y3 + 0.0007;
    d[1] = 1.71 * y1 - 8.75 * y2;
    d[2] = -10.03 * y3 + 0.43 * y4 + 0.035 * y5;
    d[3] = 8.32 * y2 + 1.71 * y3 - 1.12 * y4;
    d[4] = -1.745 * y5 + 0.43 * y6 + 0.43 * y7;
    d[5] = -280 * y6 * y8 + 0.69 * y4 + 1.71 * y5 - 0.43 * y6 + 0.69 * y7;
    d[6] = 280 * y6 * y8 - 1.81 * y7;
    d[7] = -280 * y6 * y8 + 1.81 * y7;
  },
  jacobian: (_t, y, j) => {
    j.fill(0);
    j[0] = -1.71;
    j[1] = 0.43;
    j[2] = 8.32;
    j[8] = 1.71;
    j[9] = -8.75;
    j[18] = -10.03;
    j[19] = 0.43;
    j[20] = 0.035;
    j[25] = 8.32;
    j[26] = 1.71;
    j[27] = -1.12;
    j[36] = -1.745;
    j[37] = 0.43;
    j[38] = 0.43;
    j[43] = 0.69;
    j[44] = 1.71;
    j[45] = -0.43 - 280 * y[7];
    j[46] = 0.69;
    j[47] = -280 * y[5];
    j[53] = 280 * y[7];
    j[54] = -1.81;
    j[55] = 280 * y[5];
    j[61] = -280 * y[7];
    j[62] = 1.81;
    j[63] = -280 * y[5];
  },
  t0: 0,
  t1: 321.8122,
  y0: [1, 0, 0, 0, 0, 0, 0, 0.0057],
  reference: [
    0.0007371312573325332, 0.00014424857263161187, 5.888729740966954e-5, 0.0011756513432830868,
    0.002386356198830328, 0.00623896825273963, 0.0028499983951850803, 0.002850001604814966,
  ],
  rtol: 1e-6,
  atol: 1e-10,
};

export const OREGONATOR: StiffProblem = {
  name: 'oregonator',
  f: (_t, y, d) => {
    d[0] = 77.27 * (y[1] + y[0] * (1 - 8.375e-6 * y[0] - y[1]));
    d[1] = (y[2] - (1 + y[0]) * y[1]) / 77.27;
    d[2] = 0.161 * (y[0] - y[2]);
  },
  jacobian: (_t, y, j) => {
    j[0] = 77.27 * (1 - 2 * 8.375e-6 * y[0] - y[1]);
    j[1] = 77.27 * (1 - y[0]);
    j[2] = 0;
    j[3] = -y[1] / 77.27;
    j[4] = -(1 + y[0]) / 77.27;
    j[5] = 1 / 77.27;
    j[6] = 0.161;
    j[7] = 0;
    j[8] = -0.161;
  },
  t0: 0,
  t1: 360,
  y0: [1, 2, 3],
  reference: [1.000814870318523, 1228.1785215499015, 132.05549428465858],
  rtol: 1e-6,
  atol: 1e-8,
};

export const STIFF_PROBLEMS: readonly StiffProblem[] = [ROBERTSON, VAN_DER_POL, HIRES, OREGONATOR];

/** Largest error at t1 relative to the tolerance scale atol + rtol·|ref|. */
export function toleranceScaledError(
  problem: StiffProblem,
  y: ArrayLike<number>,
  rtol: number,
  atol: number,
): number {
  let worst = 0;
  for (let i = 0; i < problem.reference.length; i++) {
    const ref = problem.reference[i];
    worst = Math.max(worst, Math.abs(y[i] - ref) / (atol + rtol * Math.abs(ref)));
  }
  return worst;
}

export interface DirectSolveResult {
  readonly y: Float64Array;
  readonly stats: SolverStats;
  readonly outcome: StepOutcome;
  readonly t: number;
}

/** RMS norm of err/scale (the driver's default norm). */
export function rmsNorm(err: Float64Array, scale: Float64Array): number {
  let s = 0;
  for (let i = 0; i < err.length; i++) {
    const r = err[i] / scale[i];
    s += r * r;
  }
  return err.length === 0 ? 0 : Math.sqrt(s / err.length);
}

/**
 * Run a stepper from t0 to t1 through the Stepper interface (what the driver does, minus output handling),
 * counting evaluations of f by wrapping it.
 */
export function solveDirect(
  method: MethodFactory,
  f: Dynamics,
  t0: number,
  t1: number,
  y0: ArrayLike<number>,
  settings: {
    rtol: number;
    atol: number;
    jacobian?: JacobianFn;
    firstStep?: number;
    maxStep?: number;
    fixedStep?: number;
    maxSteps?: number;
  },
): DirectSolveResult {
  const n = y0.length;
  const stats = emptyStats();
  const counted: Dynamics = (t, y, d) => {
    stats.nfe++;
    f(t, y, d);
  };
  const stepper = method.create(counted, t0, Float64Array.from(y0), t1, {
    rtol: new Float64Array(n).fill(settings.rtol),
    atol: new Float64Array(n).fill(settings.atol),
    norm: rmsNorm,
    firstStep: settings.firstStep,
    maxStep: settings.maxStep ?? Number.POSITIVE_INFINITY,
    fixedStep: settings.fixedStep,
    jacobian: settings.jacobian,
    stats,
  });
  let outcome: StepOutcome = { kind: 'accepted' };
  const maxSteps = settings.maxSteps ?? 100_000;
  while (stepper.t < t1 && stats.naccept < maxSteps) {
    outcome = stepper.step(t1);
    if (outcome.kind === 'failed') break;
  }
  return { y: Float64Array.from(stepper.y), stats, outcome, t: stepper.t };
}

/**
 * A plain Dormand–Prince 5(4) stepper (FSAL, I-controller, cubic Hermite dense output) used as the non-stiff
 * half of the auto switcher in these tests, so that they do not depend on the explicit-method module.
 */
export const TEST_DOPRI5: MethodFactory = {
  name: 'dopri5-test',
  fixedStep: false,
  stiff: false,
  create(f, t0, y0, _tEnd, options) {
    const n = y0.length;
    const c = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
    const a = [
      [],
      [1 / 5],
      [3 / 40, 9 / 40],
      [44 / 45, -56 / 15, 32 / 9],
      [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
      [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
      [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
    ];
    const e = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];
    const k = Array.from({ length: 7 }, () => new Float64Array(n));
    const ys = new Float64Array(n);
    const err = new Float64Array(n);
    const scale = new Float64Array(n);
    const yOld = new Float64Array(n);
    const fOld = new Float64Array(n);
    const state = { t: t0, tPrev: t0, y: Float64Array.from(y0), h: options.firstStep ?? 1e-6 };
    f(t0, state.y, k[0]);
    const interp = {
      t0: t0,
      t1: t0,
      evaluate(t: number, out?: Float64Array) {
        const o = out ?? new Float64Array(n);
        const h = state.t - state.tPrev;
        if (h === 0) {
          o.set(state.y);
          return o;
        }
        const s = (t - state.tPrev) / h;
        const h00 = 2 * s ** 3 - 3 * s ** 2 + 1;
        const h10 = s ** 3 - 2 * s ** 2 + s;
        const h01 = -2 * s ** 3 + 3 * s ** 2;
        const h11 = s ** 3 - s ** 2;
        for (let i = 0; i < n; i++) {
          o[i] = h00 * yOld[i] + h10 * h * fOld[i] + h01 * state.y[i] + h11 * h * k[0][i];
        }
        return o;
      },
    };
    return {
      method: 'dopri5-test',
      order: 5,
      get t() {
        return state.t;
      },
      get tPrev() {
        return state.tPrev;
      },
      get y() {
        return state.y;
      },
      step(tLimit: number): StepOutcome {
        for (let attempt = 0; attempt < 1000; attempt++) {
          const h = state.t + 1.01 * state.h >= tLimit ? tLimit - state.t : state.h;
          for (let s = 1; s < 7; s++) {
            for (let i = 0; i < n; i++) {
              let v = state.y[i];
              for (let j = 0; j < s; j++) v += h * a[s][j] * k[j][i];
              ys[i] = v;
            }
            f(state.t + c[s] * h, ys, k[s]);
          }
          for (let i = 0; i < n; i++) {
            let v = 0;
            for (let j = 0; j < 7; j++) v += e[j] * k[j][i];
            err[i] = h * v;
            scale[i] = options.atol[i] + options.rtol[i] * Math.max(Math.abs(state.y[i]), Math.abs(ys[i]));
          }
          const en = options.norm(err, scale);
          options.stats.nsteps++;
          const factor = Math.min(10, Math.max(0.2, 0.9 * (en === 0 ? 10 : en ** -0.2)));
          if (en <= 1) {
            options.stats.naccept++;
            yOld.set(state.y);
            fOld.set(k[0]);
            state.y.set(ys);
            k[0].set(k[6]);
            state.tPrev = state.t;
            state.t = h === tLimit - state.t ? tLimit : state.t + h;
            state.h = Math.min(h * factor, options.maxStep);
            interp.t0 = state.tPrev;
            interp.t1 = state.t;
            return { kind: 'accepted' };
          }
          options.stats.nreject++;
          state.h = h * factor;
        }
        return { kind: 'failed', code: 'stepSizeUnderflow', message: 'dopri5-test: too many rejections' };
      },
      interpolant: () => interp,
      restart(t: number, y: Float64Array) {
        state.t = t;
        state.tPrev = t;
        state.y.set(y);
        f(t, state.y, k[0]);
      },
    };
  },
};

/** Work counters of one SciPy run. */
export interface ScipyCounts {
  readonly steps: number;
  readonly nfe: number;
  readonly njev: number;
  readonly nlu: number;
}

/**
 * SciPy 1.17.1 `solve_ivp` at each problem's test tolerances (rtol, atol above) with the analytic Jacobian,
 * measured once with `bench/stiff_scipy.py run` (steps = len(sol.t) − 1). The stiff-method tests bound our
 * counts by these.
 */
export const SCIPY_COUNTS: Readonly<
  Record<string, Readonly<Record<'Radau' | 'BDF' | 'LSODA', ScipyCounts>>>
> = {
  robertson: {
    Radau: { steps: 371, nfe: 2875, njev: 78, nlu: 384 },
    BDF: { steps: 649, nfe: 1826, njev: 17, nlu: 131 },
    LSODA: { steps: 859, nfe: 1186, njev: 125, nlu: 125 },
  },
  vanDerPol: {
    Radau: { steps: 919, nfe: 7702, njev: 184, nlu: 636 },
    BDF: { steps: 1258, nfe: 3904, njev: 85, nlu: 293 },
    LSODA: { steps: 1305, nfe: 2273, njev: 138, nlu: 138 },
  },
  hires: {
    Radau: { steps: 210, nfe: 1931, njev: 75, nlu: 232 },
    BDF: { steps: 327, nfe: 911, njev: 25, nlu: 85 },
    LSODA: { steps: 746, nfe: 1336, njev: 48, nlu: 48 },
  },
  oregonator: {
    Radau: { steps: 1039, nfe: 9492, njev: 387, nlu: 1008 },
    BDF: { steps: 1429, nfe: 4304, njev: 141, nlu: 369 },
    LSODA: { steps: 2091, nfe: 3614, njev: 219, nlu: 219 },
  },
};

/**
 * SciPy's smallest counts over Radau, BDF and LSODA (1.17.1, analytic Jacobian, atol/rtol as in the tests)
 * at the loose and tight ends of the bench's sweep, from `npm run bench -- stiff`: the NFE minimum is LSODA's
 * except where noted, the njev minimum is always BDF's.
 */
export const SCIPY_BEST_AT: Readonly<
  Record<string, Readonly<Record<'1e-4' | '1e-8', { nfe: number; njev: number }>>>
> = {
  robertson: { '1e-4': { nfe: 474, njev: 15 }, '1e-8': { nfe: 2286, njev: 19 } },
  vanDerPol: { '1e-4': { nfe: 1446, njev: 71 }, '1e-8': { nfe: 4006, njev: 126 } },
  // NFE at 1e-4 from BDF.
  hires: { '1e-4': { nfe: 462, njev: 19 }, '1e-8': { nfe: 1948, njev: 32 } },
  // NFE at 1e-8 from BDF.
  oregonator: { '1e-4': { nfe: 1841, njev: 107 }, '1e-8': { nfe: 9615, njev: 167 } },
};

/**
 * A linear stiff system y' = A·y with A = V·diag(−1, −100, −10⁴)·V⁻¹, whose exact solution
 * V·exp(D·t)·V⁻¹·y0 is the matrix exponential applied to y0.
 */
export const LINEAR_EIGENVALUES = [-1, -100, -1e4];
const V = [1, 1, 0, 0, 1, 1, 1, 0, 1];
const V_INV = [0.5, -0.5, 0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.5];
export const LINEAR_A: readonly number[] = (() => {
  const a: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += V[i * 3 + k] * LINEAR_EIGENVALUES[k] * V_INV[k * 3 + j];
      a.push(s);
    }
  }
  return a;
})();

export function linearExact(t: number, y0: readonly number[]): number[] {
  const w = [0, 1, 2].map((k) => {
    let s = 0;
    for (let j = 0; j < 3; j++) s += V_INV[k * 3 + j] * y0[j];
    return s * Math.exp(LINEAR_EIGENVALUES[k] * t);
  });
  return [0, 1, 2].map((i) => V[i * 3] * w[0] + V[i * 3 + 1] * w[1] + V[i * 3 + 2] * w[2]);
}

export const linearF: Dynamics = (_t, y, d) => {
  for (let i = 0; i < 3; i++)
    d[i] = LINEAR_A[i * 3] * y[0] + LINEAR_A[i * 3 + 1] * y[1] + LINEAR_A[i * 3 + 2] * y[2];
};
