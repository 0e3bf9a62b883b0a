/**
 * A small WebAssembly assembler: LEB128 encodings, the opcodes the kernels use, a structured emitter for
 * function bodies and {@link assembleModule}, which lays out the type, function, memory, export and code
 * sections of a module of plain functions and one exported memory. Kernels are written in TypeScript against
 * this and assembled at load time, so the package ships no binary and needs no build step for them.
 */
// The project compiles against ES2022 + Node types without DOM; these declare the small part of the
// WebAssembly API the kernels use.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
/** The platform's WebAssembly object, or undefined where there is none. */
export const WASM: WasmApi | undefined = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
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

export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// Opcodes.
export const BLOCK = 0x02;
export const LOOP = 0x03;
export const BR = 0x0c;
export const BR_IF = 0x0d;
export const END = 0x0b;
export const VOID = 0x40;
export const LOCAL_GET = 0x20;
export const LOCAL_SET = 0x21;
export const I32_CONST = 0x41;
export const I32_ADD = 0x6a;
export const I32_MUL = 0x6c;
export const I32_SHL = 0x74;
export const I32_GE_U = 0x4f;
export const F64_ADD = 0xa0;
export const F64_STORE = 0x39;
export const SIMD = 0xfd;
export const V128_LOAD = 0x00;
export const V128_CONST = 0x0c;
export const F64X2_EXTRACT_LANE = 0x21;
export const F64X2_ADD = 0xf0;
export const F64X2_MIN = 0xf4;
export const F64X2_GT = 0x4a;
export const V128_BITSELECT = 0x52;
export const F64X2_MUL = 0xf2;

export const I32 = 0x7f;
export const V128 = 0x7b;
export const F64X2_ABS = 0xec;
export const F64X2_NEG = 0xed;
export const F64X2_SUB = 0xf1;
export const F64X2_DIV = 0xf3;
export const F64X2_MAX = 0xf5;
export const F64X2_NEAREST = 0x94;
export const V128_AND = 0x4e;
export const V128_OR = 0x50;
export const V128_STORE = 0x0b;
export const I64X2_SHL = 0xcb;
export const I64X2_ADD = 0xce;
export const I64X2_EXTEND_LOW_I32X4_S = 0xc7;
export const I32X4_TRUNC_SAT_F64X2_S_ZERO = 0xfc;

export function f64Bytes(v: number): number[] {
  return Array.from(new Uint8Array(new Float64Array([v]).buffer));
}

export function i64Bytes(hi: number, lo: number): number[] {
  return Array.from(new Uint8Array(new Uint32Array([lo, hi]).buffer));
}

export const IF = 0x04;
export const ELSE = 0x05;
export const F64 = 0x7c;
export const F64_LOAD = 0x2b;
export const F64_CONST = 0x44;
export const I32_GT_U = 0x4b;
export const F64X2_SPLAT = 0x14;
/** Relaxed SIMD: f64x2.relaxed_madd(a, b, c) = a·b + c, fused where the hardware has FMA. */
export const F64X2_RELAXED_MADD = 0x107;
/** Relaxed SIMD: f64x2.relaxed_nmadd(a, b, c) = c − a·b, fused where the hardware has FMA. */
export const F64X2_RELAXED_NMADD = 0x108;

let relaxedSimd: boolean | undefined;

/**
 * Whether this platform compiles WebAssembly relaxed SIMD (standard since 2023: Node 22+, current browsers;
 * behind `--experimental-wasm-relaxed-simd` on Node 20). Checked with a one-instruction module; a positive
 * answer is remembered, a negative one is checked again (the flag may be turned on later).
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxedSimd) return true;
  if (WASM === undefined) return false;
  const body = [0, LOCAL_GET, 0, LOCAL_GET, 0, LOCAL_GET, 0, SIMD, ...uleb(F64X2_RELAXED_MADD), END];
  const bytes = new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, [1, 0x60, 1, V128, 1, V128]),
    ...section(3, [1, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
  relaxedSimd = WASM.validate(bytes);
  return relaxedSimd;
}

/** A little structured emitter for the row kernels below (locals by index, loops as closures). */
export class Emitter {
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
  /** v128.load from the address on the stack plus `offset`. */
  loadAt(offset: number): this {
    this.simd(V128_LOAD);
    this.c.push(3, ...uleb(offset));
    return this;
  }
  /** v128.store of the value on the stack to the address below it plus `offset`. */
  storeAt(offset: number): this {
    this.simd(V128_STORE);
    this.c.push(3, ...uleb(offset));
    return this;
  }
  loadV(addr: number, offset: number): this {
    this.get(addr).simd(V128_LOAD);
    this.c.push(3, ...uleb(offset));
    return this;
  }
  /**
   * Local `acc` ← acc + a·b for v128 locals: one relaxed_madd when `fused` (see {@link relaxedSimdAvailable}),
   * else a multiply and an add.
   */
  accumulate(acc: number, a: number, b: number, fused: boolean): this {
    if (fused) return this.get(a).get(b).get(acc).simd(F64X2_RELAXED_MADD).set(acc);
    return this.get(acc).get(a).get(b).simd(F64X2_MUL).simd(F64X2_ADD).set(acc);
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

/** A function of a module: its exported name, parameter and result types (I32, F64, ...) and its body. */
export interface AsmFunction {
  readonly name: string;
  readonly params: readonly number[];
  readonly results?: readonly number[];
  /** Local declarations followed by the instructions, as returned by the body builders. */
  readonly body: readonly number[];
}

/**
 * A module exporting `functions` (in order) and one memory named `mem` of `pages` pages of 64 KiB; with
 * `fixed`, the memory's maximum equals its initial size, so it can never grow (growing would detach every
 * view into it).
 */
export function assembleModule(functions: readonly AsmFunction[], pages: number, fixed: boolean): Uint8Array {
  const signatures: string[] = [];
  const typeBytes: number[] = [];
  const typeOf = functions.map((f) => {
    const key = `${f.params.join(',')}:${(f.results ?? []).join(',')}`;
    let t = signatures.indexOf(key);
    if (t < 0) {
      t = signatures.length;
      signatures.push(key);
      const results = f.results ?? [];
      typeBytes.push(0x60, ...uleb(f.params.length), ...f.params, ...uleb(results.length), ...results);
    }
    return t;
  });
  const name = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const type = section(1, [...uleb(signatures.length), ...typeBytes]);
  const func = section(3, [...uleb(functions.length), ...typeOf.flatMap((t) => uleb(t))]);
  const memory = section(5, fixed ? [1, 1, ...uleb(pages), ...uleb(pages)] : [1, 0, ...uleb(pages)]);
  const exportBytes: number[] = [...uleb(functions.length + 1)];
  functions.forEach((f, i) => {
    exportBytes.push(...name(f.name), 0, ...uleb(i));
  });
  exportBytes.push(...name('mem'), 2, 0);
  const exports = section(7, exportBytes);
  const codeBytes: number[] = [...uleb(functions.length)];
  for (const f of functions) codeBytes.push(...uleb(f.body.length), ...f.body);
  const code = section(10, codeBytes);
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
