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
 * tanh(nbytes, src, dst): dst[i] = tanh(src[i]) over nbytes/8 doubles (nbytes a multiple of 16·TANH_LANES).
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
  // TANH_LANES independent vectors per iteration, emitted step by step in lockstep, so that their
  // polynomial chains overlap in the pipeline instead of waiting on each multiply–add's latency.
  const lanes: [number, number][] = [];
  for (let v = 0; v < TANH_LANES; v++) lanes.push([7 * v, 16 * v]);
  const each = (f: (b: number, o: number) => void) => {
    for (const [b, o] of lanes) f(b, o);
  };
  each((b, o) => {
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
  });
  each((b) => {
    // t = nearest(y / ln2)
    get(b + Y);
    splat(Math.LOG2E);
    simd(F64X2_MUL);
    simd(F64X2_NEAREST);
    set(b + T);
  });
  each((b) => {
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
  });
  // q = (((1/14!)·r + 1/13!)·r + ... + 1/2!)  then  em1 = r + r²·q
  each((b) => {
    splat(1 / FACTORIALS[14]);
    set(b + Q);
  });
  for (let k = 13; k >= 2; k--) {
    each((b) => {
      get(b + Q);
      get(b + R);
      simd(F64X2_MUL);
      splat(1 / FACTORIALS[k]);
      simd(F64X2_ADD);
      set(b + Q);
    });
  }
  each((b) => {
    get(b + R);
    get(b + R);
    get(b + R);
    simd(F64X2_MUL);
    get(b + Q);
    simd(F64X2_MUL);
    simd(F64X2_ADD);
    set(b + Q); // q now holds expm1(r)
  });
  each((b) => {
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
  });
  each((b) => {
    // e1 = scale·q + (scale − 1)
    get(b + SCALE);
    get(b + Q);
    simd(F64X2_MUL);
    get(b + SCALE);
    splat(1);
    simd(F64X2_SUB);
    simd(F64X2_ADD);
    set(b + E1);
  });
  each((b, o) => {
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
  });
  get(OFF);
  c.push(I32_CONST, ...sleb(16 * TANH_LANES), I32_ADD);
  set(OFF);
  c.push(BR, 0, END, END, END);
  const locals = [2, 1, I32, ...uleb(7 * TANH_LANES), V128];
  return [...locals, ...c];
}

/** Vectors (of two doubles) per iteration of the tanh kernel; its input length is padded to 2·TANH_LANES. */
const TANH_LANES = 8;

// --- Kernels for products with few rows, reading their operands in place ---------------------------------

const IF = 0x04;
const ELSE = 0x05;
const F64 = 0x7c;
const F64_LOAD = 0x2b;
const F64_CONST = 0x44;
const I32_GT_U = 0x4b;
const F64X2_SPLAT = 0x14;

/** A little structured emitter for the row kernels below (locals by index, loops as closures). */
class Emitter {
  readonly c: number[] = [];
  get(l: number): this {
    this.c.push(LOCAL_GET, l);
    return this;
  }
  set(l: number): this {
    this.c.push(LOCAL_SET, l);
    return this;
  }
  i32(v: number): this {
    this.c.push(I32_CONST, ...sleb(v));
    return this;
  }
  op(...bytes: number[]): this {
    this.c.push(...bytes);
    return this;
  }
  simd(code: number): this {
    this.c.push(SIMD, ...uleb(code));
    return this;
  }
  /** local = a + b (both locals). */
  sum(dst: number, a: number, b: number): this {
    return this.get(a).get(b).op(I32_ADD).set(dst);
  }
  /** local += constant. */
  inc(l: number, v: number): this {
    return this.get(l).i32(v).op(I32_ADD).set(l);
  }
  loadV(addr: number, offset: number): this {
    this.get(addr).simd(V128_LOAD);
    this.c.push(3, ...uleb(offset));
    return this;
  }
  zeroV(l: number): this {
    this.simd(V128_CONST);
    for (let z = 0; z < 16; z++) this.c.push(0);
    return this.set(l);
  }
  /** `while (!exit()) { body() }` where `exit` pushes an i32 condition. */
  loop(exit: () => void, body: () => void): this {
    this.c.push(BLOCK, VOID, LOOP, VOID);
    exit();
    this.c.push(BR_IF, 1);
    body();
    this.c.push(BR, 0, END, END);
    return this;
  }
}

/**
 * rows(m, n, k, a, b, c, acc): C[i, j] (+)= Σ_p A[i, p]·B[j, p] for row-major A (m×k), B (n×k), C (m×n) at
 * byte addresses a, b, c; k must be even. Columns of C are produced four at a time (four f64x2 accumulators
 * sharing each load of A's row), then one at a time.
 */
function dotRowsBody(): number[] {
  const [M, N, K, A, B, C, ACC] = [0, 1, 2, 3, 4, 5, 6];
  const [I, J, P, K8, AROW, CROW, B0, B1, B2, B3, CP] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const [X, S0] = [18, 19]; // S0..S3 = 19..22
  const e = new Emitter();
  const storeLane = (s: number, offset: number) => {
    e.get(CP);
    e.get(s).simd(F64X2_EXTRACT_LANE).op(0);
    e.get(s).simd(F64X2_EXTRACT_LANE).op(1).op(F64_ADD);
    e.get(ACC)
      .op(IF, F64)
      .get(CP)
      .op(F64_LOAD, 3, ...uleb(offset), ELSE, F64_CONST, ...f64Bytes(0), END);
    e.op(F64_ADD, F64_STORE, 3, ...uleb(offset));
  };
  const inner = (rows: number) => {
    for (let q = 0; q < rows; q++) e.zeroV(S0 + q);
    e.i32(0).set(P);
    e.loop(
      () => e.get(P).get(K8).op(I32_GE_U),
      () => {
        e.sum(CP, AROW, P);
        e.loadV(CP, 0).set(X);
        for (let q = 0; q < rows; q++) {
          e.get(S0 + q).get(X);
          e.get(B0 + q)
            .get(P)
            .op(I32_ADD)
            .set(CP)
            .loadV(CP, 0);
          e.simd(F64X2_MUL)
            .simd(F64X2_ADD)
            .set(S0 + q);
        }
        e.inc(P, 16);
      },
    );
    e.get(CROW).get(J).i32(3).op(I32_SHL, I32_ADD).set(CP);
    for (let q = 0; q < rows; q++) storeLane(S0 + q, 8 * q);
  };
  e.get(K).i32(3).op(I32_SHL).set(K8);
  e.i32(0).set(I);
  e.loop(
    () => e.get(I).get(M).op(I32_GE_U),
    () => {
      e.get(A).get(I).get(K8).op(I32_MUL, I32_ADD).set(AROW);
      e.get(C).get(I).get(N).op(I32_MUL).i32(3).op(I32_SHL, I32_ADD).set(CROW);
      e.i32(0).set(J);
      e.loop(
        () => e.get(J).i32(4).op(I32_ADD).get(N).op(I32_GT_U),
        () => {
          e.get(B).get(J).get(K8).op(I32_MUL, I32_ADD).set(B0);
          e.sum(B1, B0, K8).sum(B2, B1, K8).sum(B3, B2, K8);
          inner(4);
          e.inc(J, 4);
        },
      );
      e.loop(
        () => e.get(J).get(N).op(I32_GE_U),
        () => {
          e.get(B).get(J).get(K8).op(I32_MUL, I32_ADD).set(B0);
          inner(1);
          e.inc(J, 1);
        },
      );
      e.inc(I, 1);
    },
  );
  e.op(END);
  return [2, ...uleb(11), I32, ...uleb(5), V128, ...e.c];
}

/**
 * axpy(m, n, k, a, sai, sap, b, c, acc): C[i, :] (+)= Σ_p A[i·sai + p·sap]·B[p, :] for row-major B (k×n) and
 * C (m×n), with A addressed by byte strides (so both A and Aᵀ work); n must be even. Rows of C are built two
 * at a time (sharing every load of B), in chunks of eight columns held in f64x2 accumulators, then two
 * columns at a time; an odd last row is built alone.
 */
function axpyRowsBody(): number[] {
  const [M, N, K, A, SAI, SAP, B, C, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [I, C0, P, N8, AP, BP, CP, AROW, CROW, CP2] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const [SPL, SPL2, X, V0, W0] = [19, 20, 21, 22, 26]; // V0..V3 = 22..25, W0..W3 = 26..29
  const e = new Emitter();
  const chunk = (vectors: number, rows: number) => {
    e.sum(CP, CROW, C0);
    if (rows === 2) e.sum(CP2, CP, N8);
    e.get(ACC).op(IF, VOID);
    for (let q = 0; q < vectors; q++) {
      e.loadV(CP, 16 * q).set(V0 + q);
      if (rows === 2) e.loadV(CP2, 16 * q).set(W0 + q);
    }
    e.op(ELSE);
    for (let q = 0; q < vectors; q++) {
      e.zeroV(V0 + q);
      if (rows === 2) e.zeroV(W0 + q);
    }
    e.op(END);
    e.get(AROW).set(AP);
    e.sum(BP, B, C0);
    e.i32(0).set(P);
    e.loop(
      () => e.get(P).get(K).op(I32_GE_U),
      () => {
        e.get(AP).op(F64_LOAD, 3, 0).simd(F64X2_SPLAT).set(SPL);
        if (rows === 2) e.get(AP).get(SAI).op(I32_ADD, F64_LOAD, 3, 0).simd(F64X2_SPLAT).set(SPL2);
        for (let q = 0; q < vectors; q++) {
          e.loadV(BP, 16 * q).set(X);
          e.get(V0 + q)
            .get(SPL)
            .get(X)
            .simd(F64X2_MUL)
            .simd(F64X2_ADD)
            .set(V0 + q);
          if (rows === 2)
            e.get(W0 + q)
              .get(SPL2)
              .get(X)
              .simd(F64X2_MUL)
              .simd(F64X2_ADD)
              .set(W0 + q);
        }
        e.sum(AP, AP, SAP).sum(BP, BP, N8).inc(P, 1);
      },
    );
    for (let q = 0; q < vectors; q++) {
      e.get(CP)
        .get(V0 + q)
        .simd(V128_STORE);
      e.op(3, ...uleb(16 * q));
      if (rows === 2) {
        e.get(CP2)
          .get(W0 + q)
          .simd(V128_STORE);
        e.op(3, ...uleb(16 * q));
      }
    }
    e.inc(C0, 16 * vectors);
  };
  const row = (rows: number) => {
    e.get(A).get(I).get(SAI).op(I32_MUL, I32_ADD).set(AROW);
    e.get(C).get(I).get(N8).op(I32_MUL, I32_ADD).set(CROW);
    e.i32(0).set(C0);
    e.loop(
      () => e.get(C0).i32(64).op(I32_ADD).get(N8).op(I32_GT_U),
      () => chunk(4, rows),
    );
    e.loop(
      () => e.get(C0).get(N8).op(I32_GE_U),
      () => chunk(1, rows),
    );
    e.inc(I, rows);
  };
  e.get(N).i32(3).op(I32_SHL).set(N8);
  e.i32(0).set(I);
  e.loop(
    () => e.get(I).i32(2).op(I32_ADD).get(M).op(I32_GT_U),
    () => row(2),
  );
  e.loop(
    () => e.get(I).get(M).op(I32_GE_U),
    () => row(1),
  );
  e.op(END);
  return [2, ...uleb(10), I32, ...uleb(11), V128, ...e.c];
}

/** ln 2 split so that t·LN2_HI is exact for |t| < 2¹¹ (Cody–Waite reduction). */
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const FACTORIALS = (() => {
  const f = [1];
  for (let k = 1; k <= 14; k++) f.push(f[k - 1] * k);
  return f;
})();

/**
 * The module, with a memory of `pages` pages of 64 KiB; with `fixed` the memory's maximum equals its initial
 * size, so it can never grow (growing would detach every view into it).
 */
function buildModule(pages: number, fixed: boolean): Uint8Array {
  const nt = ntBody();
  const th = tanhBody();
  const dr = dotRowsBody();
  const ax = axpyRowsBody();
  const type = section(1, [
    4,
    0x60,
    6,
    ...new Array<number>(6).fill(I32),
    0,
    0x60,
    3,
    I32,
    I32,
    I32,
    0,
    0x60,
    7,
    ...new Array<number>(7).fill(I32),
    0,
    0x60,
    9,
    ...new Array<number>(9).fill(I32),
    0,
  ]);
  const func = section(3, [4, 0, 1, 2, 3]);
  const memory = section(5, fixed ? [1, 1, ...uleb(pages), ...uleb(pages)] : [1, 0, ...uleb(pages)]);
  const name = (s: string) => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const exports = section(7, [
    5,
    ...name('nt'),
    0,
    0,
    ...name('tanh'),
    0,
    1,
    ...name('rows'),
    0,
    2,
    ...name('axpy'),
    0,
    3,
    ...name('mem'),
    2,
    0,
  ]);
  const code = section(10, [
    4,
    ...uleb(nt.length),
    ...nt,
    ...uleb(th.length),
    ...th,
    ...uleb(dr.length),
    ...dr,
    ...uleb(ax.length),
    ...ax,
  ]);
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
    if (typeof WebAssembly !== 'object') return null;
    const bytes = buildModule(pages, fixed);
    if (!WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
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
