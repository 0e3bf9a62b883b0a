/**
 * A WebAssembly SIMD matrix-product kernel, used by `gemmKernel` for products large enough to amortise copying
 * the operands into WASM memory.
 *
 * Scalar JavaScript tops out near 3–4 GFLOP/s in V8 (bounds-checked scalar loads, no vectorisation); the
 * same 4×2 register-blocked dot-product kernel written with f64x2 lanes does two multiply–adds per instruction
 * without bounds checks. The module is assembled here from its instruction bytes (no build step, no binary
 * blob): one exported function
 *
 *   nt(mp, np, kp, aPtr, bPtr, cPtr):  C[mp×np] = A[mp×kp] · B[np×kp]ᵀ   (all row-major f64, byte addresses)
 *
 * with mp a multiple of 4, np a multiple of 2 and kp a multiple of 2. The JavaScript side packs op(A) and op(B)ᵀ
 * into those padded layouts (transposing when needed and zero-filling the padding), so the WASM code has no edge
 * cases, and copies the result back. When WebAssembly SIMD is unavailable, `wasmGemmAvailable` is false and the
 * scalar kernels are used.
 */
import type { TensorData } from './kernels.js';

// The project compiles against ES2022 + Node types without DOM; declare the small part of the WebAssembly
// API used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
};

// --- A minimal assembler for the one function -------------------------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// Opcodes.
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_SHL = 0x74;
const I32_GE_U = 0x4f;
const F64_ADD = 0xa0;
const F64_STORE = 0x39;
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const V128_CONST = 0x0c;
const F64X2_EXTRACT_LANE = 0x21;
const F64X2_ADD = 0xf0;
const F64X2_MUL = 0xf2;

// Locals: parameters 0..5, then i32 scratch, then v128 accumulators and temporaries.
const MP = 0;
const NP = 1;
const KP = 2;
const APTR = 3;
const BPTR = 4;
const CPTR = 5;
const I = 6;
const J = 7;
const P = 8;
const ROW = 9; // kp * 8
const A0 = 10;
const A1 = 11;
const A2 = 12;
const A3 = 13;
const B0 = 14;
const B1 = 15;
const CJ = 16;
const NP8 = 17;
const ACC = 18; // 8 accumulators: ACC + 2*r + s
const Y0 = 26;
const Y1 = 27;
const X = 28;

function ntBody(): number[] {
  const c: number[] = [];
  const get = (l: number) => c.push(LOCAL_GET, l);
  const set = (l: number) => c.push(LOCAL_SET, l);
  const i32 = (v: number) => c.push(I32_CONST, ...sleb(v));
  const simd = (op: number) => c.push(SIMD, ...uleb(op));
  const loadV = () => {
    simd(V128_LOAD);
    c.push(3, 0); // align 2^3, offset 0
  };

  // ROW = KP << 3; NP8 = NP << 3; I = 0
  get(KP);
  i32(3);
  c.push(I32_SHL);
  set(ROW);
  get(NP);
  i32(3);
  c.push(I32_SHL);
  set(NP8);
  i32(0);
  set(I);
  c.push(BLOCK, VOID, LOOP, VOID);
  get(I);
  get(MP);
  c.push(I32_GE_U, BR_IF, 1);
  // A0..A3 = APTR + I*ROW + r*ROW
  get(APTR);
  get(I);
  get(ROW);
  c.push(I32_MUL, I32_ADD);
  set(A0);
  for (const [dst, src] of [
    [A1, A0],
    [A2, A1],
    [A3, A2],
  ]) {
    get(src);
    get(ROW);
    c.push(I32_ADD);
    set(dst);
  }
  i32(0);
  set(J);
  c.push(BLOCK, VOID, LOOP, VOID);
  get(J);
  get(NP);
  c.push(I32_GE_U, BR_IF, 1);
  // B0 = BPTR + J*ROW; B1 = B0 + ROW
  get(BPTR);
  get(J);
  get(ROW);
  c.push(I32_MUL, I32_ADD);
  set(B0);
  get(B0);
  get(ROW);
  c.push(I32_ADD);
  set(B1);
  for (let q = 0; q < 8; q++) {
    simd(V128_CONST);
    for (let z = 0; z < 16; z++) c.push(0);
    set(ACC + q);
  }
  i32(0);
  set(P);
  c.push(BLOCK, VOID, LOOP, VOID);
  get(P);
  get(ROW);
  c.push(I32_GE_U, BR_IF, 1);
  get(B0);
  get(P);
  c.push(I32_ADD);
  loadV();
  set(Y0);
  get(B1);
  get(P);
  c.push(I32_ADD);
  loadV();
  set(Y1);
  for (let r = 0; r < 4; r++) {
    get(A0 + r);
    get(P);
    c.push(I32_ADD);
    loadV();
    set(X);
    for (let s = 0; s < 2; s++) {
      get(ACC + 2 * r + s);
      get(X);
      get(s === 0 ? Y0 : Y1);
      simd(F64X2_MUL);
      simd(F64X2_ADD);
      set(ACC + 2 * r + s);
    }
  }
  get(P);
  i32(16);
  c.push(I32_ADD);
  set(P);
  c.push(BR, 0);
  c.push(END, END);
  // Store the lane sums: C[I + r, J + s] at CPTR + ((I + r)*NP + J + s)*8.
  get(CPTR);
  get(I);
  get(NP8);
  c.push(I32_MUL, I32_ADD);
  get(J);
  i32(3);
  c.push(I32_SHL, I32_ADD);
  set(CJ);
  for (let r = 0; r < 4; r++) {
    for (let s = 0; s < 2; s++) {
      get(CJ);
      get(ACC + 2 * r + s);
      simd(F64X2_EXTRACT_LANE);
      c.push(0);
      get(ACC + 2 * r + s);
      simd(F64X2_EXTRACT_LANE);
      c.push(1);
      c.push(F64_ADD);
      c.push(F64_STORE, 3, ...uleb(8 * s));
    }
    if (r < 3) {
      get(CJ);
      get(NP8);
      c.push(I32_ADD);
      set(CJ);
    }
  }
  get(J);
  i32(2);
  c.push(I32_ADD);
  set(J);
  c.push(BR, 0);
  c.push(END, END);
  get(I);
  i32(4);
  c.push(I32_ADD);
  set(I);
  c.push(BR, 0);
  c.push(END, END);
  c.push(END); // function body
  const locals = [2, ...uleb(12), I32, ...uleb(11), V128];
  return [...locals, ...c];
}

const I32 = 0x7f;
const V128 = 0x7b;
const F64X2_ABS = 0xec;
const F64X2_NEG = 0xed;
const F64X2_SUB = 0xf1;
const F64X2_DIV = 0xf3;
const F64X2_MAX = 0xf5;
const F64X2_NEAREST = 0x94;
const V128_AND = 0x4e;
const V128_OR = 0x50;
const V128_STORE = 0x0b;
const I64X2_SHL = 0xcb;
const I64X2_ADD = 0xce;
const I64X2_EXTEND_LOW_I32X4_S = 0xc7;
const I32X4_TRUNC_SAT_F64X2_S_ZERO = 0xfc;

function f64Bytes(v: number): number[] {
  return Array.from(new Uint8Array(new Float64Array([v]).buffer));
}

function i64Bytes(hi: number, lo: number): number[] {
  return Array.from(new Uint8Array(new Uint32Array([lo, hi]).buffer));
}

/**
 * tanh(nbytes, src, dst): dst[i] = tanh(src[i]) over nbytes/8 doubles (nbytes a multiple of 32).
 *
 * tanh|x| = −m/(2 + m) with m = expm1(−2|x|), and expm1(y) = 2ⁿ·q(r) + (2ⁿ − 1) where n = round(y/ln 2),
 * r = y − n·ln 2 (ln 2 split in two parts for an exact reduction) and q(r) = Σ_{k=1..14} rᵏ/k! (truncation
 * below 1e-16 relative for |r| ≤ ln2/2). 2ⁿ is built from its exponent bits. y is clamped at −60, where
 * tanh is 1 to double precision; the sign of x is copied back at the end. NaN propagates.
 */
function tanhBody(): number[] {
  const c: number[] = [];
  const NBYTES = 0;
  const SRC = 1;
  const DST = 2;
  const OFF = 3;
  const X = 4;
  const Y = 5;
  const T = 6;
  const R = 7;
  const Q = 8;
  const SCALE = 9;
  const E1 = 10;
  const get = (l: number) => c.push(LOCAL_GET, l);
  const set = (l: number) => c.push(LOCAL_SET, l);
  const simd = (op: number) => c.push(SIMD, ...uleb(op));
  const splat = (v: number) => {
    simd(V128_CONST);
    c.push(...f64Bytes(v), ...f64Bytes(v));
  };
  c.push(I32_CONST, 0);
  set(OFF);
  c.push(BLOCK, VOID, LOOP, VOID);
  get(OFF);
  get(NBYTES);
  c.push(I32_GE_U, BR_IF, 1);
  // Two independent vectors per iteration so that their polynomial chains overlap in the pipeline.
  const vector = (b: number, o: number) => {
    // x = load(src + off); y = max(−2|x|, −60)
    get(SRC);
    get(OFF);
    c.push(I32_ADD);
    simd(V128_LOAD);
    c.push(3, o);
    set(b + X);
    get(b + X);
    simd(F64X2_ABS);
    splat(-2);
    simd(F64X2_MUL);
    splat(-60);
    simd(F64X2_MAX);
    set(b + Y);
    // t = nearest(y / ln2)
    get(b + Y);
    splat(Math.LOG2E);
    simd(F64X2_MUL);
    simd(F64X2_NEAREST);
    set(b + T);
    // r = (y − t·LN2_HI) − t·LN2_LO
    get(b + Y);
    get(b + T);
    splat(LN2_HI);
    simd(F64X2_MUL);
    simd(F64X2_SUB);
    get(b + T);
    splat(LN2_LO);
    simd(F64X2_MUL);
    simd(F64X2_SUB);
    set(b + R);
    // q = (((1/14!)·r + 1/13!)·r + ... + 1/2!)  then  em1 = r + r²·q
    splat(1 / FACTORIALS[14]);
    set(b + Q);
    for (let k = 13; k >= 2; k--) {
      get(b + Q);
      get(b + R);
      simd(F64X2_MUL);
      splat(1 / FACTORIALS[k]);
      simd(F64X2_ADD);
      set(b + Q);
    }
    get(b + R);
    get(b + R);
    get(b + R);
    simd(F64X2_MUL);
    get(b + Q);
    simd(F64X2_MUL);
    simd(F64X2_ADD);
    set(b + Q); // q now holds expm1(r)
    // scale = 2^t from exponent bits ((t + 1023) << 52)
    get(b + T);
    simd(I32X4_TRUNC_SAT_F64X2_S_ZERO);
    simd(I64X2_EXTEND_LOW_I32X4_S);
    simd(V128_CONST);
    c.push(...i64Bytes(0, 1023), ...i64Bytes(0, 1023));
    simd(I64X2_ADD);
    c.push(I32_CONST, 52);
    simd(I64X2_SHL);
    set(b + SCALE);
    // e1 = scale·q + (scale − 1)
    get(b + SCALE);
    get(b + Q);
    simd(F64X2_MUL);
    get(b + SCALE);
    splat(1);
    simd(F64X2_SUB);
    simd(F64X2_ADD);
    set(b + E1);
    // store(dst + off, (−e1 / (e1 + 2)) | sign(x))
    get(DST);
    get(OFF);
    c.push(I32_ADD);
    get(b + E1);
    simd(F64X2_NEG);
    get(b + E1);
    splat(2);
    simd(F64X2_ADD);
    simd(F64X2_DIV);
    simd(F64X2_ABS);
    get(b + X);
    simd(V128_CONST);
    c.push(...i64Bytes(0x80000000, 0), ...i64Bytes(0x80000000, 0));
    simd(V128_AND);
    simd(V128_OR);
    simd(V128_STORE);
    c.push(3, o);
  };
  vector(0, 0);
  vector(7, 16);
  get(OFF);
  c.push(I32_CONST, 32, I32_ADD);
  set(OFF);
  c.push(BR, 0, END, END, END);
  const locals = [2, 1, I32, 14, V128];
  return [...locals, ...c];
}

/** ln 2 split so that t·LN2_HI is exact for |t| < 2¹¹ (Cody–Waite reduction). */
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const FACTORIALS = (() => {
  const f = [1];
  for (let k = 1; k <= 14; k++) f.push(f[k - 1] * k);
  return f;
})();

function buildModule(): Uint8Array {
  const nt = ntBody();
  const th = tanhBody();
  const type = section(1, [2, 0x60, 6, I32, I32, I32, I32, I32, I32, 0, 0x60, 3, I32, I32, I32, 0]);
  const func = section(3, [2, 0, 1]);
  const memory = section(5, [1, 0, ...uleb(16)]); // min 16 pages (1 MiB), no max
  const name = (s: string) => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const exports = section(7, [3, ...name('nt'), 0, 0, ...name('tanh'), 0, 1, ...name('mem'), 2, 0]);
  const code = section(10, [2, ...uleb(nt.length), ...nt, ...uleb(th.length), ...th]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...type,
    ...func,
    ...memory,
    ...exports,
    ...code,
  ]);
}

interface WasmKernel {
  readonly nt: (mp: number, np: number, kp: number, aPtr: number, bPtr: number, cPtr: number) => void;
  readonly tanh: (nbytes: number, src: number, dst: number) => void;
  readonly mem: WasmMemory;
}

function instantiate(): WasmKernel | null {
  try {
    if (typeof WebAssembly !== 'object') return null;
    const bytes = buildModule();
    if (!WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return instance.exports as unknown as WasmKernel;
  } catch {
    return null;
  }
}

const kernel = instantiate();
let heap: Float64Array = kernel ? new Float64Array(kernel.mem.buffer) : new Float64Array(0);

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
  if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
  if (heap.buffer !== mem.buffer) heap = new Float64Array(mem.buffer);
  return heap;
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

/** out[i] = tanh(x[i]) for i < n with the SIMD kernel (max relative error ~5e-16). Requires {@link wasmGemmAvailable}. */
export function wasmTanh(x: TensorData, out: TensorData, n: number): void {
  const n2 = (n + 3) & ~3;
  const h = ensureHeap(2 * n2);
  h.set(x.length === n ? x : x.subarray(0, n), 0);
  for (let i = n; i < n2; i++) h[i] = 0;
  (kernel as WasmKernel).tanh(n2 * 8, 0, n2 * 8);
  out.set(h.subarray(n2, n2 + n));
}
