/**
 * Dense complex LU factorisation with partial pivoting, in place, on split storage: the real and imaginary
 * parts of the row-major n×n matrix live in two Float64Arrays. Split storage keeps every kernel a plain
 * typed-array loop (no complex objects), which is what the Radau IIA complex-eigenvalue system needs.
 *
 * Pivots are chosen by |re| + |im| (the 1-norm of the entry), which avoids a square root per entry and bounds
 * the multipliers by √2, as in LAPACK's ZGETRF use of CABS1.
 */

/** Factor (re + i·im) in place. Returns the first step with a zero pivot (singular), or -1 on success. */
export function complexLuFactor(re: Float64Array, im: Float64Array, n: number, pivots: Int32Array): number {
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(re[k * n + k]) + Math.abs(im[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(re[i * n + k]) + Math.abs(im[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    pivots[k] = p;
    if (best === 0 || !Number.isFinite(best)) return k;
    const rk = k * n;
    if (p !== k) {
      const rp = p * n;
      for (let j = 0; j < n; j++) {
        let tmp = re[rk + j];
        re[rk + j] = re[rp + j];
        re[rp + j] = tmp;
        tmp = im[rk + j];
        im[rk + j] = im[rp + j];
        im[rp + j] = tmp;
      }
    }
    // 1 / (pr + i·pi) = (pr − i·pi) / (pr² + pi²)
    const pr = re[rk + k];
    const pi = im[rk + k];
    const d = pr * pr + pi * pi;
    const invRe = pr / d;
    const invIm = -pi / d;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const ar = re[ri + k];
      const ai = im[ri + k];
      const mr = ar * invRe - ai * invIm;
      const mi = ar * invIm + ai * invRe;
      re[ri + k] = mr;
      im[ri + k] = mi;
      if (mr !== 0 || mi !== 0) {
        for (let j = k + 1; j < n; j++) {
          const ur = re[rk + j];
          const ui = im[rk + j];
          re[ri + j] -= mr * ur - mi * ui;
          im[ri + j] -= mr * ui + mi * ur;
        }
      }
    }
  }
  return -1;
}

/** Solve A x = b in place on split storage (`bRe`, `bIm` become x) with the factors from {@link complexLuFactor}. */
export function complexLuSolve(
  re: Float64Array,
  im: Float64Array,
  n: number,
  pivots: Int32Array,
  bRe: Float64Array,
  bIm: Float64Array,
): void {
  for (let k = 0; k < n; k++) {
    const p = pivots[k];
    if (p !== k) {
      let tmp = bRe[k];
      bRe[k] = bRe[p];
      bRe[p] = tmp;
      tmp = bIm[k];
      bIm[k] = bIm[p];
      bIm[p] = tmp;
    }
  }
  for (let i = 1; i < n; i++) {
    const ri = i * n;
    let sr = bRe[i];
    let si = bIm[i];
    for (let j = 0; j < i; j++) {
      const lr = re[ri + j];
      const li = im[ri + j];
      sr -= lr * bRe[j] - li * bIm[j];
      si -= lr * bIm[j] + li * bRe[j];
    }
    bRe[i] = sr;
    bIm[i] = si;
  }
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    let sr = bRe[i];
    let si = bIm[i];
    for (let j = i + 1; j < n; j++) {
      const ur = re[ri + j];
      const ui = im[ri + j];
      sr -= ur * bRe[j] - ui * bIm[j];
      si -= ur * bIm[j] + ui * bRe[j];
    }
    const dr = re[ri + i];
    const di = im[ri + i];
    const d = dr * dr + di * di;
    bRe[i] = (sr * dr + si * di) / d;
    bIm[i] = (si * dr - sr * di) / d;
  }
}
