/**
 * Dense LU factorisation with partial pivoting, in place, for real row-major n×n matrices.
 *
 * The factors overwrite the matrix (unit lower triangle below the diagonal, U on and above it) and the row
 * interchanges go into `pivots` (pivots[k] = row swapped with row k at elimination step k), as in LAPACK's
 * DGETRF. Nothing is allocated, so stiff solvers can refactor inside their step loop.
 *
 * Reference: G. H. Golub & C. F. Van Loan, Matrix Computations, 4th ed., §3.4 (Gaussian elimination with
 * partial pivoting).
 */

/**
 * Factor `a` (row-major n×n) in place. Returns the first elimination step k whose pivot is exactly zero
 * (the matrix is singular), or -1 on success.
 */
export function luFactor(a: Float64Array, n: number, pivots: Int32Array): number {
  for (let k = 0; k < n; k++) {
    // Partial pivoting: the largest magnitude in column k at or below the diagonal bounds the multipliers by 1.
    let p = k;
    let best = Math.abs(a[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    pivots[k] = p;
    if (best === 0 || !Number.isFinite(best)) return k;
    if (p !== k) {
      const rk = k * n;
      const rp = p * n;
      for (let j = 0; j < n; j++) {
        const tmp = a[rk + j];
        a[rk + j] = a[rp + j];
        a[rp + j] = tmp;
      }
    }
    const rk = k * n;
    const inv = 1 / a[rk + k];
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const m = a[ri + k] * inv;
      a[ri + k] = m;
      if (m !== 0) {
        for (let j = k + 1; j < n; j++) a[ri + j] -= m * a[rk + j];
      }
    }
  }
  return -1;
}

/** Solve A x = b in place (`b` becomes x) with the factors from {@link luFactor}. */
export function luSolve(lu: Float64Array, n: number, pivots: Int32Array, b: Float64Array): void {
  for (let k = 0; k < n; k++) {
    const p = pivots[k];
    if (p !== k) {
      const tmp = b[k];
      b[k] = b[p];
      b[p] = tmp;
    }
  }
  // Forward substitution with the unit lower triangle.
  for (let i = 1; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let j = 0; j < i; j++) s -= lu[ri + j] * b[j];
    b[i] = s;
  }
  // Back substitution with U.
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    let s = b[i];
    for (let j = i + 1; j < n; j++) s -= lu[ri + j] * b[j];
    b[i] = s / lu[ri + i];
  }
}
