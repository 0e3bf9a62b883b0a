/**
 * The bodies of the WebAssembly SIMD kernels (see kernels-wasm.ts for how they are used): a packed
 * matrix-product kernel `nt` and two kernels over unpadded row-major operands, `rows` (dot products of
 * rows) and `axpy` (rows of C as combinations of rows of B).
 */
import {
  BLOCK,
  BR,
  BR_IF,
  ELSE,
  Emitter,
  END,
  F64,
  F64_ADD,
  F64_CONST,
  F64_LOAD,
  F64_STORE,
  F64X2_ADD,
  F64X2_EXTRACT_LANE,
  F64X2_MUL,
  F64X2_SPLAT,
  f64Bytes,
  I32,
  I32_ADD,
  I32_CONST,
  I32_GE_U,
  I32_GT_U,
  I32_MUL,
  I32_SHL,
  IF,
  LOCAL_GET,
  LOCAL_SET,
  LOOP,
  SIMD,
  sleb,
  uleb,
  V128,
  V128_CONST,
  V128_LOAD,
  V128_STORE,
  VOID,
} from './wasm-asm.js';

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

export function ntBody(): number[] {
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

/**
 * rows(m, n, k, a, b, c, acc): C[i, j] (+)= Σ_p A[i, p]·B[j, p] for row-major A (m×k), B (n×k), C (m×n) at
 * byte addresses a, b, c; k must be even. Columns of C are produced four at a time (four f64x2 accumulators
 * sharing each load of A's row), then one at a time.
 */
export function dotRowsBody(): number[] {
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
 * columns at a time; an odd last row is built alone. `fused`: multiply–adds as relaxed_madd (see
 * {@link relaxedSimdAvailable}).
 */
export function axpyRowsBody(fused = false): number[] {
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
          e.accumulate(V0 + q, SPL, X, fused);
          if (rows === 2) e.accumulate(W0 + q, SPL2, X, fused);
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
