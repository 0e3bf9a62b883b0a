/**
 * Elementwise WebAssembly SIMD kernels over contiguous float64 ranges, for code that keeps its activations in
 * a {@link Workspace} (feature-major layers over many rows): the backward factors of tanh and ELU, ReLU, and the
 * vector updates of Runge–Kutta stages, and the gate algebra of a GRU (ELU itself is in kernels-wasm-exp.ts). Every kernel takes a byte count
 * that is a multiple of 64 (eight doubles, four f64x2 vectors per iteration, which keeps several independent
 * chains in flight) and byte addresses; ranges may alias exactly (in place) but must not overlap otherwise.
 */
import { eluBody } from './kernels-wasm-exp.js';
import {
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
  F64X2_GT,
  F64X2_MAX,
  F64X2_MUL,
  F64X2_SPLAT,
  F64X2_SUB,
  f64Bytes,
  I32,
  I32_ADD,
  I32_GE_U,
  I32_GT_U,
  I32_MUL,
  I32_SHL,
  IF,
  uleb,
  V128,
  V128_BITSELECT,
  V128_CONST,
} from './wasm-asm.js';

/** Vectors per loop iteration. */
const UNROLL = 4;

function splat(e: Emitter, v: number): Emitter {
  e.simd(V128_CONST);
  e.op(...f64Bytes(v), ...f64Bytes(v));
  return e;
}

/**
 * The loop shared by every kernel: for off = 0, 64, … < nbytes, `step(v, o)` for v = 0 … UNROLL−1 emits the
 * work of the vector at byte offset off + o (locals OFF and the pointers are set up by the caller).
 */
function vectorLoop(e: Emitter, NBYTES: number, OFF: number, step: (v: number, o: number) => void): void {
  e.i32(0).set(OFF);
  e.loop(
    () => e.get(OFF).get(NBYTES).op(I32_GE_U),
    () => {
      for (let v = 0; v < UNROLL; v++) step(v, 16 * v);
      e.inc(OFF, 16 * UNROLL);
    },
  );
}

/** Pushes the address `base + OFF` (base a local). */
function at(e: Emitter, base: number, OFF: number): Emitter {
  return e.get(base).get(OFF).op(I32_ADD);
}

/** tanhGrad(nbytes, g, y): g ← g·(1 − y²), the tanh backward factor from the activation y = tanh(x). */
export function tanhGradBody(): number[] {
  const [NBYTES, G, Y, OFF] = [0, 1, 2, 3];
  const e = new Emitter();
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, G, OFF);
    at(e, G, OFF).loadAt(o);
    splat(e, 1);
    at(e, Y, OFF).loadAt(o);
    at(e, Y, OFF).loadAt(o);
    e.simd(F64X2_MUL).simd(F64X2_SUB).simd(F64X2_MUL);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [1, 1, I32, ...e.c];
}

/** eluGrad(nbytes, g, y): g ← g·(y > 0 ? 1 : y + 1), the ELU backward factor from the activation y (eˣ = y + 1). */
export function eluGradBody(): number[] {
  const [NBYTES, G, Y, OFF, YV] = [0, 1, 2, 3, 4];
  const e = new Emitter();
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, Y, OFF).loadAt(o).set(YV);
    at(e, G, OFF);
    at(e, G, OFF).loadAt(o);
    splat(e, 1);
    e.get(YV);
    splat(e, 1).simd(F64X2_ADD);
    e.get(YV);
    splat(e, 0).simd(F64X2_GT).simd(V128_BITSELECT).simd(F64X2_MUL);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [2, 1, I32, 1, V128, ...e.c];
}

/** relu(nbytes, src, dst): dst = max(x, 0) (NaN propagates). */
export function reluBody(): number[] {
  const [NBYTES, SRC, DST, OFF] = [0, 1, 2, 3];
  const e = new Emitter();
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, DST, OFF);
    at(e, SRC, OFF).loadAt(o);
    splat(e, 0).simd(F64X2_MAX);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [1, 1, I32, ...e.c];
}

/** reluGrad(nbytes, g, y): g ← y > 0 ? g : 0, the ReLU backward factor from the activation y. */
export function reluGradBody(): number[] {
  const [NBYTES, G, Y, OFF] = [0, 1, 2, 3];
  const e = new Emitter();
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, G, OFF);
    at(e, G, OFF).loadAt(o);
    splat(e, 0);
    at(e, Y, OFF).loadAt(o);
    splat(e, 0).simd(F64X2_GT).simd(V128_BITSELECT);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [1, 1, I32, ...e.c];
}

/** axpy(nbytes, alpha, x, y): y ← y + alpha·x. */
export function axpyBody(): number[] {
  const [NBYTES, ALPHA, X, Y, OFF, A] = [0, 1, 2, 3, 4, 5];
  const e = new Emitter();
  e.get(ALPHA).simd(F64X2_SPLAT).set(A);
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, Y, OFF);
    at(e, Y, OFF).loadAt(o);
    e.get(A);
    at(e, X, OFF).loadAt(o);
    e.simd(F64X2_MUL).simd(F64X2_ADD);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [2, 1, I32, 1, V128, ...e.c];
}

/** addScaled(nbytes, x, alpha, y, out): out ← x + alpha·y. */
export function addScaledBody(): number[] {
  const [NBYTES, X, ALPHA, Y, OUT, OFF, A] = [0, 1, 2, 3, 4, 5, 6];
  const e = new Emitter();
  e.get(ALPHA).simd(F64X2_SPLAT).set(A);
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, OUT, OFF);
    at(e, X, OFF).loadAt(o);
    e.get(A);
    at(e, Y, OFF).loadAt(o);
    e.simd(F64X2_MUL).simd(F64X2_ADD);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [2, 1, I32, 1, V128, ...e.c];
}

/** scale(nbytes, alpha, x, out): out ← alpha·x. */
export function scaleBody(): number[] {
  const [NBYTES, ALPHA, X, OUT, OFF, A] = [0, 1, 2, 3, 4, 5];
  const e = new Emitter();
  e.get(ALPHA).simd(F64X2_SPLAT).set(A);
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, OUT, OFF);
    e.get(A);
    at(e, X, OFF).loadAt(o);
    e.simd(F64X2_MUL);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [2, 1, I32, 1, V128, ...e.c];
}

/** affine(nbytes, alpha, beta, x, out): out ← alpha·x + beta. */
export function affineBody(): number[] {
  const [NBYTES, ALPHA, BETA, X, OUT, OFF, A, B] = [0, 1, 2, 3, 4, 5, 6, 7];
  const e = new Emitter();
  e.get(ALPHA).simd(F64X2_SPLAT).set(A);
  e.get(BETA).simd(F64X2_SPLAT).set(B);
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, OUT, OFF);
    e.get(A);
    at(e, X, OFF).loadAt(o);
    e.simd(F64X2_MUL);
    e.get(B).simd(F64X2_ADD);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [2, 1, I32, 2, V128, ...e.c];
}

/** mul(nbytes, x, y, out): out ← x·y elementwise. */
export function mulBody(): number[] {
  const [NBYTES, X, Y, OUT, OFF] = [0, 1, 2, 3, 4];
  const e = new Emitter();
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, OUT, OFF);
    at(e, X, OFF).loadAt(o);
    at(e, Y, OFF).loadAt(o);
    e.simd(F64X2_MUL);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [1, 1, I32, ...e.c];
}

/** lerp(nbytes, z, a, b, out): out ← b + z·(a − b) elementwise (a GRU's state update, z its update gate). */
export function lerpBody(): number[] {
  const [NBYTES, Z, A, B, OUT, OFF] = [0, 1, 2, 3, 4, 5];
  const e = new Emitter();
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, OUT, OFF);
    at(e, B, OFF).loadAt(o);
    at(e, Z, OFF).loadAt(o);
    at(e, A, OFF).loadAt(o);
    at(e, B, OFF).loadAt(o);
    e.simd(F64X2_SUB).simd(F64X2_MUL).simd(F64X2_ADD);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [1, 1, I32, ...e.c];
}

/**
 * gruGrad(nbytes, g, z, n, h, gn, gz, gh): the backward factors of h' = n + z·(h − n) with n = tanh(·) and
 * z = σ(·), from g = dL/dh': gn ← g·(1 − z)·(1 − n²), gz ← g·(h − n)·z·(1 − z), gh ← g·z.
 */
export function gruGradBody(): number[] {
  const [NBYTES, G, Z, N, H, GN, GZ, GH, OFF, GV, ZV, NV] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const e = new Emitter();
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, G, OFF).loadAt(o).set(GV);
    at(e, Z, OFF).loadAt(o).set(ZV);
    at(e, N, OFF).loadAt(o).set(NV);
    at(e, GN, OFF);
    e.get(GV);
    splat(e, 1).get(ZV).simd(F64X2_SUB).simd(F64X2_MUL);
    splat(e, 1).get(NV).get(NV).simd(F64X2_MUL).simd(F64X2_SUB).simd(F64X2_MUL);
    e.storeAt(o);
    at(e, GZ, OFF);
    e.get(GV);
    at(e, H, OFF).loadAt(o).get(NV).simd(F64X2_SUB).simd(F64X2_MUL);
    e.get(ZV).simd(F64X2_MUL);
    splat(e, 1).get(ZV).simd(F64X2_SUB).simd(F64X2_MUL);
    e.storeAt(o);
    at(e, GH, OFF);
    e.get(GV).get(ZV).simd(F64X2_MUL);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [2, 1, I32, 3, V128, ...e.c];
}

/**
 * gruResetGrad(nbytes, gb, h, r, gr, gh): the backward factors of b = r·h with r = σ(·), from gb = dL/db:
 * gr ← gb·h·r·(1 − r), gh ← gh + gb·r.
 */
export function gruResetGradBody(): number[] {
  const [NBYTES, GB, H, R, GR, GH, OFF, BV, RV] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const e = new Emitter();
  vectorLoop(e, NBYTES, OFF, (_v, o) => {
    at(e, GB, OFF).loadAt(o).set(BV);
    at(e, R, OFF).loadAt(o).set(RV);
    at(e, GR, OFF);
    e.get(BV);
    at(e, H, OFF).loadAt(o).simd(F64X2_MUL);
    e.get(RV).simd(F64X2_MUL);
    splat(e, 1).get(RV).simd(F64X2_SUB).simd(F64X2_MUL);
    e.storeAt(o);
    at(e, GH, OFF);
    at(e, GH, OFF).loadAt(o);
    e.get(BV).get(RV).simd(F64X2_MUL).simd(F64X2_ADD);
    e.storeAt(o);
  });
  e.op(0x0b);
  return [2, 1, I32, 2, V128, ...e.c];
}

/** Parameter types of the kernels above, by name. */
export const ELEMENTWISE_KERNELS = {
  elu: { params: [I32, I32, I32], body: eluBody },
  tanhGrad: { params: [I32, I32, I32], body: tanhGradBody },
  eluGrad: { params: [I32, I32, I32], body: eluGradBody },
  relu: { params: [I32, I32, I32], body: reluBody },
  reluGrad: { params: [I32, I32, I32], body: reluGradBody },
  axpyv: { params: [I32, F64, I32, I32], body: axpyBody },
  addScaled: { params: [I32, I32, F64, I32, I32], body: addScaledBody },
  scale: { params: [I32, F64, I32, I32], body: scaleBody },
  affine: { params: [I32, F64, F64, I32, I32], body: affineBody },
  mul: { params: [I32, I32, I32, I32], body: mulBody },
  lerp: { params: [I32, I32, I32, I32, I32], body: lerpBody },
  gruGrad: { params: [I32, I32, I32, I32, I32, I32, I32, I32], body: gruGradBody },
  gruResetGrad: { params: [I32, I32, I32, I32, I32, I32], body: gruResetGradBody },
  dots: { params: [I32, I32, I32, I32, I32, I32, I32], body: () => dotsBody() },
} as const;

/**
 * dots(m, n, k, a, b, c, acc): C[i, j] (+)= Σ_p A[i, p]·B[j, p] for row-major A (m×k), B (n×k), C (m×n) at
 * byte addresses; k even. A 2×4 register block (two rows of A against four of B, eight f64x2 accumulators,
 * six loads per sixteen multiply–adds) keeps the multipliers busy; an odd last row of A and the last n mod 4
 * rows of B take narrower blocks.
 */
export function dotsBody(): number[] {
  const [M, N, K, A, B, C, ACC] = [0, 1, 2, 3, 4, 5, 6];
  const [I, J, P, K8, A0, A1, B0, CP] = [7, 8, 9, 10, 11, 12, 13, 14];
  // v128 locals: accumulators S[r][q] = 15 + 4r + q (r < 2, q < 4), then a0, a1, b.
  const S = (r: number, q: number) => 15 + 4 * r + q;
  const [XA0, XA1, XB] = [23, 24, 25];
  const e = new Emitter();
  const block = (rows: number, cols: number) => {
    for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) e.zeroV(S(r, q));
    e.i32(0).set(P);
    e.loop(
      () => e.get(P).get(K8).op(I32_GE_U),
      () => {
        e.get(A0).get(P).op(I32_ADD).loadAt(0).set(XA0);
        if (rows === 2) e.get(A1).get(P).op(I32_ADD).loadAt(0).set(XA1);
        for (let q = 0; q < cols; q++) {
          // B row j + q starts q·K8 bytes after B0.
          e.get(B0).get(P).op(I32_ADD);
          for (let t = 0; t < q; t++) e.get(K8).op(I32_ADD);
          e.loadAt(0).set(XB);
          // Unfused on purpose: each accumulator is a chain of dependent additions, and a fused
          // multiply–add's longer latency made this kernel slower, not faster.
          for (let r = 0; r < rows; r++) e.accumulate(S(r, q), r === 0 ? XA0 : XA1, XB, false);
        }
        e.inc(P, 16);
      },
    );
    // C[i + r, j + q] (+)= lane sum of S[r][q].
    for (let r = 0; r < rows; r++) {
      for (let q = 0; q < cols; q++) {
        e.get(C).get(I).i32(r).op(I32_ADD).get(N).op(I32_MUL).get(J).op(I32_ADD).i32(q).op(I32_ADD);
        e.i32(3).op(I32_SHL).op(I32_ADD).set(CP);
        e.get(CP);
        e.get(S(r, q)).simd(F64X2_EXTRACT_LANE).op(0);
        e.get(S(r, q)).simd(F64X2_EXTRACT_LANE).op(1).op(F64_ADD);
        e.get(ACC)
          .op(IF, F64)
          .get(CP)
          .op(F64_LOAD, 3, 0, ELSE, F64_CONST, ...f64Bytes(0), END);
        e.op(F64_ADD, F64_STORE, 3, 0);
      }
    }
  };
  const rowsOf = (rows: number) => {
    e.get(A).get(I).get(K8).op(I32_MUL, I32_ADD).set(A0);
    e.get(A0).get(K8).op(I32_ADD).set(A1);
    e.i32(0).set(J);
    e.loop(
      () => e.get(J).i32(4).op(I32_ADD).get(N).op(I32_GT_U),
      () => {
        e.get(B).get(J).get(K8).op(I32_MUL, I32_ADD).set(B0);
        block(rows, 4);
        e.inc(J, 4);
      },
    );
    e.loop(
      () => e.get(J).get(N).op(I32_GE_U),
      () => {
        e.get(B).get(J).get(K8).op(I32_MUL, I32_ADD).set(B0);
        block(rows, 1);
        e.inc(J, 1);
      },
    );
    e.inc(I, rows);
  };
  e.get(K).i32(3).op(I32_SHL).set(K8);
  e.i32(0).set(I);
  e.loop(
    () => e.get(I).i32(2).op(I32_ADD).get(M).op(I32_GT_U),
    () => rowsOf(2),
  );
  e.loop(
    () => e.get(I).get(M).op(I32_GE_U),
    () => rowsOf(1),
  );
  e.op(END);
  return [2, ...uleb(8), I32, ...uleb(11), V128, ...e.c];
}
