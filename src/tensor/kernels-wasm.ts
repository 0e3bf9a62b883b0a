/**
 * WebAssembly SIMD kernels: a packed matrix-product kernel, used by `gemmKernel` for products large enough to
 * amortise copying the operands into WASM memory; two row kernels for products with few rows, which read
 * operands in "resident" storage (allocated inside their memory by {@link allocResidentFloat64}) in place;
 * and tanh.
 *
 * Scalar JavaScript tops out near 3–4 GFLOP/s in V8 (bounds-checked scalar loads, no vectorisation); the
 * same 4×2 register-blocked dot-product kernel written with f64x2 lanes does two multiply–adds per instruction
 * without bounds checks. The module is assembled here from its instruction bytes (no build step, no binary
 * blob). The packed product is
 *
 *   nt(mp, np, kp, aPtr, bPtr, cPtr):  C[mp×np] = A[mp×kp] · B[np×kp]ᵀ   (all row-major f64, byte addresses)
 *
 * with mp a multiple of 4, np a multiple of 2 and kp a multiple of 2. The JavaScript side packs op(A) and op(B)ᵀ
 * into those padded layouts (transposing when needed and zero-filling the padding), so the WASM code has no edge
 * cases, and copies the result back. The row kernels (`rows`, `axpy`, documented at their bodies) take
 * unpadded row-major operands instead, so that a weight matrix can be used where it lives.
 *
 * The module is instantiated twice: once with a growable memory that is scratch for `nt` and tanh, and once
 * with a fixed-size memory whose lower part holds resident arrays (never moved, since growing a memory would
 * detach every view into it) and whose upper part is scratch for the row kernels. When WebAssembly SIMD is
 * unavailable, `wasmGemmAvailable` is false, resident allocation returns ordinary arrays and the scalar
 * kernels are used.
 */
import type { TensorData } from './kernels.js';
import { axpyRowsBody, dotRowsBody, ntBody } from './kernels-wasm-bodies.js';
import { TANH_LANES, tanhBody } from './kernels-wasm-exp.js';
import { assembleModule, I32, relaxedSimdAvailable, WASM, type WasmMemory } from './wasm-asm.js';

/** The kernel module with a memory of `pages` pages (fixed: never grows). */
function buildModule(pages: number, fixed: boolean): Uint8Array {
  const i32s = (n: number) => new Array<number>(n).fill(I32);
  return assembleModule(
    [
      { name: 'nt', params: i32s(6), body: ntBody() },
      { name: 'tanh', params: i32s(3), body: tanhBody(relaxedSimdAvailable()) },
      { name: 'rows', params: i32s(7), body: dotRowsBody() },
      { name: 'axpy', params: i32s(9), body: axpyRowsBody(relaxedSimdAvailable()) },
    ],
    pages,
    fixed,
  );
}

interface WasmKernel {
  readonly nt: (mp: number, np: number, kp: number, aPtr: number, bPtr: number, cPtr: number) => void;
  readonly tanh: (nbytes: number, src: number, dst: number) => void;
  readonly rows: (m: number, n: number, k: number, a: number, b: number, c: number, acc: number) => void;
  readonly axpy: (
    m: number,
    n: number,
    k: number,
    a: number,
    sai: number,
    sap: number,
    b: number,
    c: number,
    acc: number,
  ) => void;
  readonly mem: WasmMemory;
}

function instantiate(pages: number, fixed: boolean): WasmKernel | null {
  try {
    if (WASM === undefined) return null;
    const bytes = buildModule(pages, fixed);
    if (!WASM.validate(bytes)) return null;
    const instance = new WASM.Instance(new WASM.Module(bytes), {});
    return instance.exports as unknown as WasmKernel;
  } catch {
    return null;
  }
}

/** Bytes of the fixed memory that may be handed out as resident arrays; later requests get ordinary arrays. */
const RESIDENT_BYTES = 16 * 2 ** 20;
/** Bytes of the fixed memory after the resident arrays, for copies of the other operands of a row kernel. */
const ROWS_SCRATCH_BYTES = 4 * 2 ** 20;

/** Instance for large products and tanh; its memory (from address 0) is scratch and grows as needed. */
const kernel = instantiate(16, false);
/**
 * Instance for the row kernels, with a memory that never grows: [0, RESIDENT_BYTES) holds resident arrays
 * (see allocResidentFloat64), the rest is scratch.
 */
const rowsKernel = kernel === null ? null : instantiate((RESIDENT_BYTES + ROWS_SCRATCH_BYTES) / 65536, true);
let heap: Float64Array = kernel ? new Float64Array(kernel.mem.buffer) : new Float64Array(0);
const rowsBuffer: ArrayBufferLike | null = rowsKernel === null ? null : rowsKernel.mem.buffer;
const rowsHeap = rowsBuffer === null ? new Float64Array(0) : new Float64Array(rowsBuffer);
let residentTop = 0;

/** Whether the WebAssembly SIMD kernels could be instantiated on this platform. */
export const wasmGemmAvailable = kernel !== null;

/** Whether the kernels dispatch to WebAssembly (see {@link setWasmKernelsEnabled}). */
export const wasmState = { enabled: wasmGemmAvailable };

/**
 * Enables or disables the WebAssembly SIMD kernels (matrix products and tanh; on by default where the platform
 * supports WebAssembly SIMD). Returns whether they are in use afterwards. Results agree with the scalar
 * kernels to rounding.
 */
export function setWasmKernelsEnabled(enabled: boolean): boolean {
  wasmState.enabled = enabled && wasmGemmAvailable;
  return wasmState.enabled;
}

function ensureHeap(elements: number): Float64Array {
  const mem = (kernel as WasmKernel).mem;
  const need = elements * 8;
  if (heap.length * 8 < need) {
    if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    heap = new Float64Array(mem.buffer);
  }
  return heap;
}

/**
 * Zero-filled float64 storage inside the row kernels' fixed memory, which they read and write in place
 * instead of copying. Meant for long-lived arrays such as a model's flat parameter and gradient vectors:
 * the memory (16 MiB in all) is never reclaimed. Returns an ordinary array when WebAssembly is unavailable or
 * the budget is used up.
 */
export function allocResidentFloat64(n: number): Float64Array {
  const bytes = ((n * 8 + 63) >> 6) << 6;
  if (rowsBuffer === null || !Number.isInteger(n) || n <= 0 || residentTop + bytes > RESIDENT_BYTES) {
    return new Float64Array(n);
  }
  const view = new Float64Array(rowsBuffer, residentTop, n);
  residentTop += bytes;
  return view;
}

/** Resident arrays seen recently (weights and weight gradients recur on every call), checked by identity. */
const recentResident: (TensorData | null)[] = new Array<TensorData | null>(16).fill(null);
let recentNext = 0;

/**
 * Byte address of element 0 of `x` when it is resident storage, else −1. Reading `.buffer` costs tens of
 * nanoseconds, so arrays recently found resident are recognised by identity first. Arrays of at most 8
 * elements are never treated as resident: V8 may keep those inside the JS heap, and reading `.buffer` would
 * force it to move them out (a costly allocation).
 */
function residentAddress(x: TensorData): number {
  for (let i = 0; i < recentResident.length; i++) if (recentResident[i] === x) return x.byteOffset;
  if (x.length <= 8 || x.buffer !== rowsBuffer) return -1;
  recentResident[recentNext] = x;
  recentNext = (recentNext + 1) & (recentResident.length - 1);
  return x.byteOffset;
}

/**
 * C (m×n) (+)= op(A)·op(B) with the row kernels, for the layouts they support: A·Bᵀ with k even, and A·B or
 * Aᵀ·B with n even. B and an accumulated C are used in place when resident; the rest is copied to scratch. Returns
 * false (having done nothing) for other layouts, for float32 data and when the copies do not fit.
 */
export function wasmRowsGemm(
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
): boolean {
  if (rowsKernel === null || (transB ? transA || (k & 1) !== 0 : (n & 1) !== 0)) return false;
  if (!(a instanceof Float64Array && b instanceof Float64Array && c instanceof Float64Array)) return false;
  // A (activations or output cotangents, small here) is always copied; B (typically a weight matrix) and an
  // accumulated C (typically a weight gradient) are used in place when resident.
  let pb = residentAddress(b);
  let pc = accumulate ? residentAddress(c) : -1;
  const na = m * k;
  const nb = n * k;
  const nc = m * n;
  const cResident = pc >= 0;
  const need = na + (pb < 0 ? nb : 0) + (cResident ? 0 : nc);
  if (need * 8 > ROWS_SCRATCH_BYTES) return false;
  const h = rowsHeap;
  // C first, at a fixed address, so that the view used to copy it out can be reused; then A, then B.
  const cAt = RESIDENT_BYTES >> 3;
  let at = cAt;
  if (!cResident) {
    if (accumulate) copyIn(h, at, c, cOff, nc);
    pc = at << 3;
    at += nc;
  } else pc += cOff << 3;
  copyIn(h, at, a, aOff, na);
  const pa = at << 3;
  at += na;
  if (pb < 0) {
    copyIn(h, at, b, bOff, nb);
    pb = at << 3;
  } else pb += bOff << 3;
  if (transB) rowsKernel.rows(m, n, k, pa, pb, pc, accumulate ? 1 : 0);
  else rowsKernel.axpy(m, n, k, pa, transA ? 8 : k * 8, transA ? m * 8 : 8, pb, pc, accumulate ? 1 : 0);
  if (!cResident) copyOut(c, cOff, rowsOutView(nc), h, cAt, nc);
  return true;
}

/**
 * Copies of fewer doubles than this use a loop; longer ones a single `set` (a memcpy), which is several times
 * faster per element (element loops over WebAssembly memory pay a bounds check per access) but has a fixed
 * cost of about 25 ns, plus the allocation of a `subarray` view when the source is part of a larger array.
 */
const COPY_LOOP_MAX = 16;
/** Views of the row kernels' scratch at the output address, cached by length. */
const VIEW_CACHE_MAX = 4096;
const rowsOutViews: (Float64Array | undefined)[] = [];

function rowsOutView(n: number): Float64Array | null {
  if (n > VIEW_CACHE_MAX) return null;
  let v = rowsOutViews[n];
  if (v === undefined) {
    const from = RESIDENT_BYTES >> 3;
    v = rowsHeap.subarray(from, from + n);
    rowsOutViews[n] = v;
  }
  return v;
}

function copyIn(h: Float64Array, at: number, src: Float64Array, off: number, n: number): void {
  if (n < COPY_LOOP_MAX) for (let i = 0; i < n; i++) h[at + i] = src[off + i];
  else h.set(off === 0 && src.length === n ? src : src.subarray(off, off + n), at);
}

/** dst[off..off+n) = h[from..from+n); `view`, when given, is exactly that range of `h`. */
function copyOut(
  dst: TensorData,
  off: number,
  view: Float64Array | null,
  h: Float64Array,
  from: number,
  n: number,
): void {
  if (n < COPY_LOOP_MAX) for (let i = 0; i < n; i++) dst[off + i] = h[from + i];
  else dst.set(view ?? h.subarray(from, from + n), off);
}

/**
 * Same contract as `gemmKernel`: C (m×n) (+)= op(A)·op(B). Requires {@link wasmGemmAvailable}.
 */
export function wasmGemm(
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
  const mp = (m + 3) & ~3;
  const np = (n + 1) & ~1;
  const kp = (k + 1) & ~1;
  const aBase = 0;
  const bBase = mp * kp;
  const cBase = bBase + np * kp;
  const h = ensureHeap(cBase + mp * np);
  // Pack op(A) as mp×kp rows.
  if (!transA && kp === k) {
    h.set(a.subarray(aOff, aOff + m * k), aBase);
  } else if (!transA) {
    for (let i = 0; i < m; i++) {
      const src = aOff + i * k;
      const dst = aBase + i * kp;
      for (let p = 0; p < k; p++) h[dst + p] = a[src + p];
      h[dst + k] = 0;
    }
  } else {
    for (let i = 0; i < m; i++) {
      const dst = aBase + i * kp;
      for (let p = 0; p < k; p++) h[dst + p] = a[aOff + p * m + i];
      if (kp !== k) h[dst + k] = 0;
    }
  }
  h.fill(0, aBase + m * kp, aBase + mp * kp);
  // Pack op(B)ᵀ as np×kp rows.
  if (transB && kp === k) {
    h.set(b.subarray(bOff, bOff + n * k), bBase);
  } else if (transB) {
    for (let j = 0; j < n; j++) {
      const src = bOff + j * k;
      const dst = bBase + j * kp;
      for (let p = 0; p < k; p++) h[dst + p] = b[src + p];
      h[dst + k] = 0;
    }
  } else {
    for (let p = 0; p < k; p++) {
      const src = bOff + p * n;
      for (let j = 0; j < n; j++) h[bBase + j * kp + p] = b[src + j];
    }
    if (kp !== k) for (let j = 0; j < n; j++) h[bBase + j * kp + k] = 0;
  }
  h.fill(0, bBase + n * kp, bBase + np * kp);
  (kernel as WasmKernel).nt(mp, np, kp, aBase * 8, bBase * 8, cBase * 8);
  if (!accumulate && np === n) {
    c.set(h.subarray(cBase, cBase + m * n), cOff);
    return;
  }
  for (let i = 0; i < m; i++) {
    const src = cBase + i * np;
    const dst = cOff + i * n;
    if (accumulate) for (let j = 0; j < n; j++) c[dst + j] += h[src + j];
    else for (let j = 0; j < n; j++) c[dst + j] = h[src + j];
  }
}

/** Views of the tanh output range of `heap`, cached by length; dropped when `heap` is replaced. */
const tanhOutViews: (Float64Array | undefined)[] = [];
let tanhViewsOf: Float64Array | null = null;

function tanhOutView(h: Float64Array, from: number, n: number): Float64Array | null {
  if (n > VIEW_CACHE_MAX) return null;
  if (tanhViewsOf !== h) {
    tanhOutViews.length = 0;
    tanhViewsOf = h;
  }
  let v = tanhOutViews[n];
  if (v === undefined) {
    v = h.subarray(from, from + n);
    tanhOutViews[n] = v;
  }
  return v;
}

/** out[i] = tanh(x[i]) for i < n with the SIMD kernel (max relative error ~5e-16). Requires {@link wasmGemmAvailable}. */
export function wasmTanh(x: TensorData, out: TensorData, n: number): void {
  const n2 = (n + 2 * TANH_LANES - 1) & ~(2 * TANH_LANES - 1);
  const h = ensureHeap(2 * n2);
  if (n < COPY_LOOP_MAX) for (let i = 0; i < n; i++) h[i] = x[i];
  else h.set(x.length === n ? x : x.subarray(0, n), 0);
  for (let i = n; i < n2; i++) h[i] = 0;
  (kernel as WasmKernel).tanh(n2 * 8, 0, n2 * 8);
  copyOut(out, 0, tanhOutView(h, n2, n), h, n2, n);
}
