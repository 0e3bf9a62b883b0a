/**
 * WebAssembly SIMD kernels built on the exponential: tanh and ELU over contiguous float64 ranges.
 *
 * Both reduce e^y (y ≤ 0) to 2ⁿ·e^r with n = round(y/ln 2) and |r| ≤ ln2/2, and take e^r from its (6, 6)
 * Padé approximant P(r)/P(−r), P(r) = Σ_{k≤6} c_k r^k with c_k = (12 − k)!·6! / (12!·k!·(6 − k)!). Splitting
 * P into its even part E and odd part O gives e^r = (E + O)/(E − O), with a truncation error below 2e-19
 * relative on |r| ≤ ln2/2. The point of the split is that tanh and expm1 then need no subtraction of nearly
 * equal numbers: with s = 2ⁿ,
 *
 *   tanh|x| = (1 − e^y)/(1 + e^y) = (E·(1 − s) − O·(1 + s)) / (E·(1 + s) − O·(1 − s)),  y = −2|x|,
 *   expm1(y) = s·e^r − 1         = (E·(s − 1) + O·(s + 1)) / (E − O),
 *
 * and 1 ± s are exact (s is a power of two ≤ 1), so for n = 0 both reduce to ±O/E and ±2O/(E − O), whose
 * relative error is that of O: the results are correct to a few ulps for every input, tiny ones included.
 * This costs about 35 vector instructions per pair of doubles, against about 50 for a degree-14 Taylor
 * polynomial of e^r − 1 in the same reduction, and one division either way.
 *
 * n comes from adding 1.5·2⁵² to y/ln 2, which rounds to the nearest integer and leaves n in the low bits
 * of the sum; (bits + 1023) << 52 is then the bit pattern of 2ⁿ (the shift drops the rest). y is clamped at
 * −60 (where tanh is 1 and expm1 is −1 to double precision), so n ≥ −87 and 2ⁿ stays normal. NaN propagates.
 *
 * With `fused` (relaxed SIMD, see {@link relaxedSimdAvailable}) each multiply followed by an add or subtract
 * (the reduction, Horner's steps, the numerators and denominators) is one relaxed multiply–add: ten fewer
 * instructions per pair, and a rounding fewer in each of those steps.
 */
import {
  Emitter,
  F64X2_ABS,
  F64X2_ADD,
  F64X2_DIV,
  F64X2_GT,
  F64X2_MAX,
  F64X2_MIN,
  F64X2_MUL,
  F64X2_RELAXED_MADD,
  F64X2_RELAXED_NMADD,
  F64X2_SUB,
  f64Bytes,
  I32,
  I32_ADD,
  I32_GE_U,
  I64X2_ADD,
  I64X2_SHL,
  i64Bytes,
  uleb,
  V128,
  V128_AND,
  V128_BITSELECT,
  V128_CONST,
  V128_OR,
} from './wasm-asm.js';

/** ln 2 split so that t·LN2_HI is exact for |t| < 2¹¹ (Cody–Waite reduction). */
export const LN2_HI = 0.6931471803691238;
export const LN2_LO = 1.9082149292705877e-10;

/** Coefficients c_0 … c_6 of the (6, 6) Padé approximant of e^r. */
export const EXP_PADE = [1, 1 / 2, 5 / 44, 1 / 66, 1 / 792, 1 / 15840, 1 / 665280] as const;

/** 1.5·2⁵²: adding it to |v| < 2⁵¹ rounds v to an integer held in the low bits of the sum. */
const ROUNDING_SHIFT = 6755399441055744;

/** Vectors (of two doubles) per loop iteration; lengths are multiples of 2·EXP_LANES doubles. */
export const EXP_LANES = 4;

/** Vectors per iteration of the tanh kernel; its input length is padded to 2·TANH_LANES doubles. */
export const TANH_LANES = EXP_LANES;

const SIGN_BIT = 0x80000000;

function splat(e: Emitter, v: number): Emitter {
  return e.simd(V128_CONST).op(...f64Bytes(v), ...f64Bytes(v));
}

type Push = (e: Emitter) => void;

/** Pushes a·b + c: one relaxed multiply–add when `fused`. */
function madd(e: Emitter, fused: boolean, a: Push, b: Push, c: Push): Emitter {
  if (fused) {
    a(e);
    b(e);
    c(e);
    return e.simd(F64X2_RELAXED_MADD);
  }
  a(e);
  b(e);
  e.simd(F64X2_MUL);
  c(e);
  return e.simd(F64X2_ADD);
}

/** Pushes c − a·b: one relaxed negated multiply–add when `fused`. */
function nmadd(e: Emitter, fused: boolean, a: Push, b: Push, c: Push): Emitter {
  if (fused) {
    a(e);
    b(e);
    c(e);
    return e.simd(F64X2_RELAXED_NMADD);
  }
  c(e);
  a(e);
  b(e);
  e.simd(F64X2_MUL);
  return e.simd(F64X2_SUB);
}

const local =
  (l: number): Push =>
  (e) =>
    e.get(l);
const constant =
  (v: number): Push =>
  (e) =>
    splat(e, v);

/** v128 locals of one vector's evaluation, after the four i32 parameters/locals of the loop. */
function vectorLocals(v: number) {
  const base = 4 + 7 * v;
  return { x: base, y: base + 1, t: base + 2, r2: base + 3, even: base + 4, odd: base + 5, s: base + 6 };
}

/**
 * The loop shared by both kernels: (nbytes, src, dst) with locals OFF = 3 and seven v128 locals per vector.
 * `reduce` leaves y ≤ 0 (the exponent) from x in `y`; `finish` pushes the result from `x`, `s`, `even`, `odd`.
 */
function expKernel(
  fused: boolean,
  reduce: (e: Emitter, l: ReturnType<typeof vectorLocals>) => void,
  finish: (e: Emitter, l: ReturnType<typeof vectorLocals>) => void,
): number[] {
  const [NBYTES, SRC, DST, OFF] = [0, 1, 2, 3];
  const e = new Emitter();
  const lanes = Array.from({ length: EXP_LANES }, (_, v) => vectorLocals(v));
  // Each step is emitted for every vector before the next step, so the chains of the vectors overlap.
  const each = (f: (l: ReturnType<typeof vectorLocals>, v: number) => void) => lanes.forEach(f);
  e.i32(0).set(OFF);
  e.loop(
    () => e.get(OFF).get(NBYTES).op(I32_GE_U),
    () => {
      each((l, v) => {
        e.get(SRC)
          .get(OFF)
          .op(I32_ADD)
          .loadAt(16 * v)
          .set(l.x);
        reduce(e, l);
        splat(e, -60).simd(F64X2_MAX).set(l.y);
      });
      // t = y/ln2 + 1.5·2⁵² (n in its low bits); r = y − n·ln2 (two parts), kept in y.
      each((l) => madd(e, fused, local(l.y), constant(Math.LOG2E), constant(ROUNDING_SHIFT)).set(l.t));
      each((l) => {
        e.get(l.t);
        splat(e, ROUNDING_SHIFT).simd(F64X2_SUB).set(l.s);
        nmadd(e, fused, local(l.s), constant(LN2_HI), local(l.y)).set(l.y);
        nmadd(e, fused, local(l.s), constant(LN2_LO), local(l.y)).set(l.y);
      });
      each((l) => e.get(l.y).get(l.y).simd(F64X2_MUL).set(l.r2));
      // E = ((c6·r² + c4)·r² + c2)·r² + 1, O = ((c5·r² + c3)·r² + c1)·r, interleaved.
      each((l) => {
        madd(e, fused, local(l.r2), constant(EXP_PADE[6]), constant(EXP_PADE[4])).set(l.even);
        madd(e, fused, local(l.r2), constant(EXP_PADE[5]), constant(EXP_PADE[3])).set(l.odd);
      });
      each((l) => {
        madd(e, fused, local(l.even), local(l.r2), constant(EXP_PADE[2])).set(l.even);
        madd(e, fused, local(l.odd), local(l.r2), constant(EXP_PADE[1])).get(l.y).simd(F64X2_MUL).set(l.odd);
      });
      each((l) => madd(e, fused, local(l.even), local(l.r2), constant(1)).set(l.even));
      // s = 2ⁿ from the bits of t.
      each((l) => {
        e.get(l.t);
        e.simd(V128_CONST).op(...i64Bytes(0, 1023), ...i64Bytes(0, 1023));
        e.simd(I64X2_ADD).i32(52).simd(I64X2_SHL).set(l.s);
      });
      each((l, v) => {
        e.get(DST).get(OFF).op(I32_ADD);
        finish(e, l);
        e.storeAt(16 * v);
      });
      e.inc(OFF, 16 * EXP_LANES);
    },
  );
  e.op(0x0b);
  return [2, 1, I32, ...uleb(7 * EXP_LANES), V128, ...e.c];
}

/**
 * tanh(nbytes, src, dst): dst[i] = tanh(src[i]) over nbytes/8 doubles (a multiple of 2·TANH_LANES), in place
 * allowed. y = −2|x|; the sign of x is copied onto the result (so ±0 stay ±0).
 */
export function tanhBody(fused = false): number[] {
  return expKernel(
    fused,
    (e, l) => {
      e.get(l.x).simd(F64X2_ABS);
      splat(e, -2).simd(F64X2_MUL);
    },
    (e, l) => {
      // Reuse t for 1 − s and s for 1 + s.
      splat(e, 1).get(l.s).simd(F64X2_SUB).set(l.t);
      splat(e, 1).get(l.s).simd(F64X2_ADD).set(l.s);
      const product =
        (a: number, b: number): Push =>
        (e) =>
          e.get(a).get(b).simd(F64X2_MUL);
      nmadd(e, fused, local(l.odd), local(l.s), product(l.even, l.t));
      nmadd(e, fused, local(l.odd), local(l.t), product(l.even, l.s));
      e.simd(F64X2_DIV);
      e.get(l.x);
      e.simd(V128_CONST).op(...i64Bytes(SIGN_BIT, 0), ...i64Bytes(SIGN_BIT, 0));
      e.simd(V128_AND).simd(V128_OR);
    },
  );
}

/** elu(nbytes, src, dst): dst = x > 0 ? x : expm1(x), with y = min(x, 0); nbytes a multiple of 16·EXP_LANES. */
export function eluBody(fused = false): number[] {
  return expKernel(
    fused,
    (e, l) => {
      e.get(l.x);
      splat(e, 0).simd(F64X2_MIN);
    },
    (e, l) => {
      e.get(l.x);
      const sPlusOne: Push = (e) => splat(e.get(l.s), 1).simd(F64X2_ADD);
      const evenTerm: Push = (e) => splat(e.get(l.s), 1).simd(F64X2_SUB).get(l.even).simd(F64X2_MUL);
      madd(e, fused, sPlusOne, local(l.odd), evenTerm);
      e.get(l.even).get(l.odd).simd(F64X2_SUB).simd(F64X2_DIV);
      // x > 0 is false for NaN, whose expm1 is NaN too.
      e.get(l.x);
      splat(e, 0).simd(F64X2_GT).simd(V128_BITSELECT);
    },
  );
}
