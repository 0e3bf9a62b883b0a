/**
 * General matrix products C = op(A) · op(B) on row-major typed arrays, with op = identity or transpose.
 *
 * Transposition is a flag rather than a copy at the tensor level: the backward pass of a product needs Gᵀ·A
 * and G·Bᵀ, and a linear layer stores W as [out, in] and needs x·Wᵀ.
 *
 * Products with few rows (a layer evaluated at a small batch, and every weight-gradient product) go to the
 * WebAssembly row kernels (kernels-wasm.ts), which read operands that live in resident storage (a model's flat
 * parameter and gradient vectors) in place, so a 64×64 layer at batch 1 costs no copy of its weights. Other
 * products with enough work go to the packed WebAssembly SIMD kernel, about 3–4x faster than scalar code;
 * tiny products use plain strided loops. Otherwise,
 * every product is computed in "dot form": rows of op(A) and columns of op(B), both contiguous along k,
 * by a 4×2 register-blocked micro-kernel (8 accumulators, 6 loads per 8 multiply–adds; measured faster in V8
 * than 4×4, which spills, and than the i-k-j "axpy" form, which loads and stores C in its inner loop). An
 * operand that is not already in that layout is packed (transposed) into a reusable scratch buffer, O(mk) or
 * O(nk) against O(mnk) work. For fewer than four rows the packing of B would cost as much as the product, so
 * that case uses unpacked row loops instead. Columns of op(B) are processed in panels sized to stay in L2.
 */
import type { TensorData } from './kernels.js';
import { wasmGemm, wasmRowsGemm, wasmState } from './kernels-wasm.js';

/** Work (m·n·k) from which a WASM row kernel beats the scalar loops (call and copy overhead). */
const ROWS_MIN_WORK = 64;
/** Work (m·n·k) below which the scalar path uses plain strided loops instead of packing. */
const TINY_MAX_WORK = 256;
/** Largest B (n·k doubles, 256 KiB) the row kernels stream once per row of the result. */
const ROWS_MAX_B = 32_768;
/** Rows from which A·Bᵀ goes to the packed kernel rather than the row kernel. */
const ROWS_MAX_M_NT = 16;
/** Work (m·n·k) from which the WASM kernel pays for copying its operands. */
const WASM_MIN_WORK = 4096;
/** Largest operand footprint (in doubles, 1 GiB) copied into WASM memory; bigger products stay in JS. */
const WASM_MAX_ELEMENTS = 2 ** 27;

/** Rows of packed op(B) per panel: 96 rows × 256 doubles ≈ 192 KiB. */
const PANEL_BYTES = 196_608;
/** Inner dimensions up to this use the i-k-j form. */
const SMALL_K = 8;

let scratchA = new Float64Array(4096);
let scratchB = new Float64Array(4096);

function packTranspose(src: TensorData, off: number, rows: number, cols: number, dst: Float64Array): void {
  // dst (cols × rows) = transpose of src (rows × cols); blocked for cache friendliness.
  const bs = 32;
  for (let r0 = 0; r0 < rows; r0 += bs) {
    const r1 = Math.min(r0 + bs, rows);
    for (let c0 = 0; c0 < cols; c0 += bs) {
      const c1 = Math.min(c0 + bs, cols);
      for (let r = r0; r < r1; r++) {
        const sb = off + r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[sb + c];
      }
    }
  }
}

/**
 * C[cOff..] (m×n) = op(A)·op(B) (+ C when `accumulate`). `a` holds A as m×k (k×m when `transA`), `b` holds B
 * as k×n (n×k when `transB`), all row-major starting at the given offsets.
 */
export function gemmKernel(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: TensorData,
  aOff: number,
  b: TensorData,
  bOff: number,
  c: TensorData,
  cOff: number,
  accumulate: boolean,
): void {
  if (
    wasmState.enabled &&
    m * n * k >= ROWS_MIN_WORK &&
    n * k <= ROWS_MAX_B &&
    (!transB || m < ROWS_MAX_M_NT || k < 8) &&
    wasmRowsGemm(transA, transB, m, n, k, a, aOff, b, bOff, c, cOff, accumulate)
  ) {
    return;
  }
  if (
    wasmState.enabled &&
    k >= 8 &&
    m * n * k >= WASM_MIN_WORK &&
    (m >= 4 || (transB && !transA)) &&
    (m + 4) * (k + 2) + (n + 2) * (k + 2) + (m + 4) * (n + 2) <= WASM_MAX_ELEMENTS
  ) {
    wasmGemm(transA, transB, m, n, k, a, aOff, b, bOff, c, cOff, accumulate);
    return;
  }
  if (m * n * k < TINY_MAX_WORK) {
    tinyGemm(transA, transB, m, n, k, a, aOff, b, bOff, c, cOff, accumulate);
    return;
  }
  if (!accumulate) {
    const end = cOff + m * n;
    for (let i = cOff; i < end; i++) c[i] = 0;
  }
  if (m === 0 || n === 0 || k === 0) return;
  let pa: TensorData = a;
  let pao = aOff;
  if (transA) {
    if (scratchA.length < m * k) scratchA = new Float64Array(m * k * 2);
    packTranspose(a, aOff, k, m, scratchA);
    pa = scratchA;
    pao = 0;
  }
  if ((!transB && m < 4) || k <= SMALL_K) {
    // Few rows, or a very short inner dimension (a first layer with 2 inputs): the i-k-j form wins.
    let pb: TensorData = b;
    let pbo = bOff;
    if (transB) {
      if (scratchB.length < n * k) scratchB = new Float64Array(n * k * 2);
      packTranspose(b, bOff, n, k, scratchB);
      pb = scratchB;
      pbo = 0;
    }
    rowsTimesMatrix(m, n, k, pa, pao, pb, pbo, c, cOff);
    return;
  }
  let pb: TensorData = b;
  let pbo = bOff;
  if (!transB) {
    if (scratchB.length < n * k) scratchB = new Float64Array(n * k * 2);
    packTranspose(b, bOff, k, n, scratchB);
    pb = scratchB;
    pbo = 0;
  }
  const panel = Math.max(2, Math.floor(PANEL_BYTES / (8 * k)) & ~1);
  for (let j0 = 0; j0 < n; j0 += panel) {
    const j1 = Math.min(j0 + panel, n);
    dotForm(m, n, k, j0, j1, pa, pao, pb, pbo, c, cOff);
  }
}

/**
 * Tiny products (the first and last layer of a small MLP at batch 1): strided loops reading both operands in
 * place, since packing or a kernel call would cost more than the arithmetic. The innermost loop runs over the
 * longest of the three dimensions, so that loop overhead is paid on the short ones only.
 */
function tinyGemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: TensorData,
  aOff: number,
  b: TensorData,
  bOff: number,
  c: TensorData,
  cOff: number,
  accumulate: boolean,
): void {
  const sai = transA ? 1 : k;
  const sap = transA ? m : 1;
  const sbp = transB ? 1 : n;
  const sbj = transB ? k : 1;
  if (k >= m && k >= n) {
    for (let i = 0; i < m; i++) {
      const ai = aOff + i * sai;
      const ci = cOff + i * n;
      for (let j = 0; j < n; j++) {
        let s = accumulate ? c[ci + j] : 0;
        for (let p = 0, ap = ai, bp = bOff + j * sbj; p < k; p++, ap += sap, bp += sbp) s += a[ap] * b[bp];
        c[ci + j] = s;
      }
    }
    return;
  }
  if (!accumulate) {
    const end = cOff + m * n;
    for (let i = cOff; i < end; i++) c[i] = 0;
  }
  if (n >= m) {
    for (let i = 0; i < m; i++) {
      const ci = cOff + i * n;
      for (let p = 0; p < k; p++) {
        const v = a[aOff + i * sai + p * sap];
        for (let j = 0, bj = bOff + p * sbp; j < n; j++, bj += sbj) c[ci + j] += v * b[bj];
      }
    }
    return;
  }
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < k; p++) {
      const v = b[bOff + p * sbp + j * sbj];
      for (let i = 0, ai = aOff + p * sap, ci = cOff + j; i < m; i++, ai += sai, ci += n) c[ci] += v * a[ai];
    }
  }
}

/** C[:, j0:j1] += A·Bᵀ with A m×k and B n×k, both row-major (dot form). */
function dotForm(
  m: number,
  n: number,
  k: number,
  j0: number,
  j1: number,
  a: TensorData,
  aOff: number,
  b: TensorData,
  bOff: number,
  c: TensorData,
  cOff: number,
): void {
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const a0 = aOff + i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    const c0 = cOff + i * n;
    let j = j0;
    for (; j + 1 < j1; j += 2) {
      const b0 = bOff + j * k;
      const b1 = b0 + k;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let p = 0; p < k; p++) {
        const y0 = b[b0 + p];
        const y1 = b[b1 + p];
        const x0 = a[a0 + p];
        s00 += x0 * y0;
        s01 += x0 * y1;
        const x1 = a[a1 + p];
        s10 += x1 * y0;
        s11 += x1 * y1;
        const x2 = a[a2 + p];
        s20 += x2 * y0;
        s21 += x2 * y1;
        const x3 = a[a3 + p];
        s30 += x3 * y0;
        s31 += x3 * y1;
      }
      c[c0 + j] += s00;
      c[c0 + j + 1] += s01;
      c[c0 + n + j] += s10;
      c[c0 + n + j + 1] += s11;
      c[c0 + 2 * n + j] += s20;
      c[c0 + 2 * n + j + 1] += s21;
      c[c0 + 3 * n + j] += s30;
      c[c0 + 3 * n + j + 1] += s31;
    }
    if (j < j1) {
      const b0 = bOff + j * k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let p = 0; p < k; p++) {
        const y0 = b[b0 + p];
        s0 += a[a0 + p] * y0;
        s1 += a[a1 + p] * y0;
        s2 += a[a2 + p] * y0;
        s3 += a[a3 + p] * y0;
      }
      c[c0 + j] += s0;
      c[c0 + n + j] += s1;
      c[c0 + 2 * n + j] += s2;
      c[c0 + 3 * n + j] += s3;
    }
  }
  for (; i < m; i++) {
    const a0 = aOff + i * k;
    const c0 = cOff + i * n;
    let j = j0;
    for (; j + 3 < j1; j += 4) {
      const b0 = bOff + j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let p = 0; p < k; p++) {
        const x = a[a0 + p];
        s0 += x * b[b0 + p];
        s1 += x * b[b1 + p];
        s2 += x * b[b2 + p];
        s3 += x * b[b3 + p];
      }
      c[c0 + j] += s0;
      c[c0 + j + 1] += s1;
      c[c0 + j + 2] += s2;
      c[c0 + j + 3] += s3;
    }
    for (; j + 1 < j1; j += 2) {
      const b0 = bOff + j * k;
      const b1 = b0 + k;
      let s0 = 0;
      let s1 = 0;
      for (let p = 0; p < k; p++) {
        const x = a[a0 + p];
        s0 += x * b[b0 + p];
        s1 += x * b[b1 + p];
      }
      c[c0 + j] += s0;
      c[c0 + j + 1] += s1;
    }
    if (j < j1) {
      const b0 = bOff + j * k;
      let s0 = 0;
      for (let p = 0; p < k; p++) s0 += a[a0 + p] * b[b0 + p];
      c[c0 + j] += s0;
    }
  }
}

/**
 * C += A·B for A m×k and B k×n row-major in i-k-j order (unit stride over rows of B and C). Used for fewer
 * than four rows (matrix–vector products: k unrolled by 4 so each pass over C applies four rows of B) and for
 * short inner dimensions (outer products: four rows of C share each load of B).
 */
function rowsTimesMatrix(
  m: number,
  n: number,
  k: number,
  a: TensorData,
  aOff: number,
  b: TensorData,
  bOff: number,
  c: TensorData,
  cOff: number,
): void {
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const c0 = cOff + i * n;
    const c1 = c0 + n;
    const c2 = c1 + n;
    const c3 = c2 + n;
    const a0 = aOff + i * k;
    for (let p = 0; p < k; p++) {
      const v0 = a[a0 + p];
      const v1 = a[a0 + k + p];
      const v2 = a[a0 + 2 * k + p];
      const v3 = a[a0 + 3 * k + p];
      const bb = bOff + p * n;
      for (let j = 0; j < n; j++) {
        const bv = b[bb + j];
        c[c0 + j] += v0 * bv;
        c[c1 + j] += v1 * bv;
        c[c2 + j] += v2 * bv;
        c[c3 + j] += v3 * bv;
      }
    }
  }
  for (; i < m; i++) {
    const a0 = aOff + i * k;
    const c0 = cOff + i * n;
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const v0 = a[a0 + p];
      const v1 = a[a0 + p + 1];
      const v2 = a[a0 + p + 2];
      const v3 = a[a0 + p + 3];
      const b0 = bOff + p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++)
        c[c0 + j] += v0 * b[b0 + j] + v1 * b[b1 + j] + v2 * b[b2 + j] + v3 * b[b3 + j];
    }
    for (; p < k; p++) {
      const v0 = a[a0 + p];
      const b0 = bOff + p * n;
      for (let j = 0; j < n; j++) c[c0 + j] += v0 * b[b0 + j];
    }
  }
}
