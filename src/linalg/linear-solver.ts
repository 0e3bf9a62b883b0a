/**
 * The one linear-solver interface used by the implicit ODE methods.
 *
 * Every stiff method solves systems with a *shifted Jacobian* σ·I − J, where σ = shiftRe + i·shiftIm is
 * real for BDF and Rosenbrock methods and complex for the conjugate eigenvalue pair of Radau IIA. Putting the
 * shift inside the interface (instead of handing the solver a ready-made matrix) lets a banded or sparse
 * backend keep J in its own storage and add the shift to the diagonal only: a new backend implements
 * {@link ShiftedLinearSolver} and a {@link LinearSolverFactory}, and no method changes.
 */
import { complexLuFactor, complexLuSolve } from './complex-lu.js';
import { luFactor, luSolve } from './lu.js';

export interface ShiftedLinearSolver {
  readonly n: number;
  /** Whether the shift may be complex (solve then takes an imaginary part). */
  readonly complex: boolean;
  /**
   * Factor σ·I − J with J dense row-major n×n (J is read, not modified). Returns false when the matrix is
   * singular; the solver is then unusable until the next successful `factor`.
   */
  factor(jac: Float64Array, shiftRe: number, shiftIm: number): boolean;
  /** Solve (σ·I − J) x = b in place. Real solvers ignore `im`; complex solvers require it. */
  solve(re: Float64Array, im?: Float64Array): void;
}

/** Builds a solver for n×n systems; `complex` asks for complex shifts. */
export type LinearSolverFactory = (n: number, complex: boolean) => ShiftedLinearSolver;

class DenseRealSolver implements ShiftedLinearSolver {
  readonly complex = false;
  private readonly lu: Float64Array;
  private readonly pivots: Int32Array;
  constructor(readonly n: number) {
    this.lu = new Float64Array(n * n);
    this.pivots = new Int32Array(n);
  }
  factor(jac: Float64Array, shiftRe: number, shiftIm: number): boolean {
    if (shiftIm !== 0) {
      throw new RangeError(`DenseRealSolver.factor: shiftIm must be 0 for a real solver, got ${shiftIm}`);
    }
    const { n, lu } = this;
    for (let k = 0; k < n * n; k++) lu[k] = -jac[k];
    for (let i = 0; i < n; i++) lu[i * n + i] += shiftRe;
    return luFactor(lu, n, this.pivots) < 0;
  }
  solve(re: Float64Array): void {
    luSolve(this.lu, this.n, this.pivots, re);
  }
}

class DenseComplexSolver implements ShiftedLinearSolver {
  readonly complex = true;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly pivots: Int32Array;
  constructor(readonly n: number) {
    this.re = new Float64Array(n * n);
    this.im = new Float64Array(n * n);
    this.pivots = new Int32Array(n);
  }
  factor(jac: Float64Array, shiftRe: number, shiftIm: number): boolean {
    const { n, re, im } = this;
    for (let k = 0; k < n * n; k++) {
      re[k] = -jac[k];
      im[k] = 0;
    }
    for (let i = 0; i < n; i++) {
      re[i * n + i] += shiftRe;
      im[i * n + i] = shiftIm;
    }
    return complexLuFactor(re, im, n, this.pivots) < 0;
  }
  solve(bRe: Float64Array, bIm?: Float64Array): void {
    if (bIm === undefined)
      throw new TypeError('DenseComplexSolver.solve: the imaginary part `im` is required');
    complexLuSolve(this.re, this.im, this.n, this.pivots, bRe, bIm);
  }
}

/** Dense LU with partial pivoting (real or complex): the default backend. */
export const denseLinearSolver: LinearSolverFactory = (n, complex) =>
  complex ? new DenseComplexSolver(n) : new DenseRealSolver(n);
