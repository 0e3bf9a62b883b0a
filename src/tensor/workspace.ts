/**
 * A workspace: one growable block of float64 memory with the kernels that work on it in place, for models
 * that keep every activation of a pass in fixed buffers (the latent ODE and its RNN baseline).
 *
 * Buffers are element offsets into {@link Workspace.heap}, handed out by a bump allocator ({@link alloc},
 * {@link reset}); each is rounded up to a multiple of 16 doubles so that every kernel can run whole SIMD
 * blocks. With WebAssembly SIMD the memory is the instance's own (growing it replaces `heap`, so views must be
 * taken after allocating); without it the same kernels run as JavaScript loops over an ordinary array.
 *
 * Matrix kernels (row-major, offsets in elements):
 * - `matmul(m, n, k, a, sai, sap, b, c, acc)`: C[m×n] (+)= A·B with A[i, p] at a + i·sai + p·sap (so both a
 *   matrix and its transpose work) and B[k×n], C contiguous; n even. This is the product of a layer over
 *   many rows in feature-major layout: B holds one input feature per row, the rows of the batch along it.
 * - `matmulTransB(m, n, k, a, b, c, acc)`: C[m×n] (+)= A[m×k]·B[n×k]ᵀ, k even: weight gradients, each a
 *   dot product over the batch.
 * Elementwise kernels take a length that is a multiple of 16.
 */
import { axpyRowsBody } from './kernels-wasm-bodies.js';
import { ELEMENTWISE_KERNELS } from './kernels-wasm-elementwise.js';
import { eluBody, tanhBody } from './kernels-wasm-exp.js';
import {
  assembleModule,
  I32,
  relaxedSimdAvailable,
  WASM,
  type WasmApi,
  type WasmMemory,
} from './wasm-asm.js';

interface WorkspaceKernels {
  readonly dots: (m: number, n: number, k: number, a: number, b: number, c: number, acc: number) => void;
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
  readonly tanh: (nbytes: number, src: number, dst: number) => void;
  readonly elu: (nbytes: number, src: number, dst: number) => void;
  readonly tanhGrad: (nbytes: number, g: number, y: number) => void;
  readonly eluGrad: (nbytes: number, g: number, y: number) => void;
  readonly relu: (nbytes: number, src: number, dst: number) => void;
  readonly reluGrad: (nbytes: number, g: number, y: number) => void;
  readonly axpyv: (nbytes: number, alpha: number, x: number, y: number) => void;
  readonly addScaled: (nbytes: number, x: number, alpha: number, y: number, out: number) => void;
  readonly scale: (nbytes: number, alpha: number, x: number, out: number) => void;
  readonly affine: (nbytes: number, alpha: number, beta: number, x: number, out: number) => void;
  readonly mul: (nbytes: number, x: number, y: number, out: number) => void;
  readonly lerp: (nbytes: number, z: number, a: number, b: number, out: number) => void;
  readonly gruGrad: (
    nbytes: number,
    g: number,
    z: number,
    n: number,
    h: number,
    gn: number,
    gz: number,
    gh: number,
  ) => void;
  readonly gruResetGrad: (nbytes: number, gb: number, h: number, r: number, gr: number, gh: number) => void;
  readonly mem: WasmMemory;
}

let compiled: object | null | undefined;
let compiledFused = false;

/**
 * The workspace module's bytes; with `fused`, the row-combination product (`axpy`), tanh and ELU use relaxed
 * SIMD multiply–adds (one instruction instead of two: axpy ~12% and tanh/ELU ~20% faster; results differ
 * from the unfused ones in the last bits).
 */
export function workspaceModuleBytes(fused: boolean): Uint8Array {
  const i32s = (n: number) => new Array<number>(n).fill(I32);
  return assembleModule(
    [
      { name: 'axpy', params: i32s(9), body: axpyRowsBody(fused) },
      { name: 'tanh', params: i32s(3), body: tanhBody(fused) },
      ...Object.entries(ELEMENTWISE_KERNELS).map(([name, k]) => ({
        name,
        params: k.params,
        body: name === 'elu' ? eluBody(fused) : k.body(),
      })),
    ],
    1,
    false,
  );
}

/**
 * The compiled workspace module (once per process), or null without WebAssembly SIMD. It uses fused
 * multiply–adds where the platform has relaxed SIMD (see {@link relaxedSimdAvailable}).
 */
function workspaceModule(): object | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    if (WASM === undefined) return null;
    const fused = relaxedSimdAvailable();
    const bytes = workspaceModuleBytes(fused);
    if (WASM.validate(bytes)) {
      compiled = new WASM.Module(bytes);
      compiledFused = fused;
    }
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Whether workspaces use fused multiply–adds in their matrix products (relaxed SIMD). */
export function workspaceFusedMultiplyAdd(): boolean {
  return workspaceModule() !== null && compiledFused;
}

/** Whether workspaces run their kernels in WebAssembly SIMD on this platform. */
export function workspaceSimdAvailable(): boolean {
  return workspaceModule() !== null;
}

const PAGE = 65536;
/** Buffers are multiples of this many doubles. */
export const WORKSPACE_ALIGN = 16;

export class Workspace {
  /** The memory as doubles; replaced when the workspace grows. */
  heap: Float64Array;
  /** Whether the kernels run in WebAssembly SIMD (else as JavaScript loops). */
  readonly simd: boolean;
  private readonly k: WorkspaceKernels | null;
  private top = 0;

  /** `simd: false` forces the JavaScript kernels (for tests and platforms without SIMD). */
  constructor(options: { simd?: boolean } = {}) {
    const module = options.simd === false ? null : workspaceModule();
    this.k =
      module === null
        ? null
        : (new (WASM as WasmApi).Instance(module, {}).exports as unknown as WorkspaceKernels);
    this.simd = this.k !== null;
    this.heap = this.k === null ? new Float64Array(0) : new Float64Array(this.k.mem.buffer);
  }

  /** Doubles handed out since the last {@link reset}. */
  get used(): number {
    return this.top;
  }

  /** Forgets every buffer (their offsets may be handed out again); the memory is kept. */
  reset(): void {
    this.top = 0;
  }

  /** Reserves `n` doubles (rounded up to a multiple of 16), filled with `fill`; returns the element offset. */
  alloc(n: number, fill = 0): number {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`Workspace.alloc: n must be an integer >= 0, got ${n}`);
    const size = Math.ceil(n / WORKSPACE_ALIGN) * WORKSPACE_ALIGN;
    const at = this.top;
    this.top += size;
    this.ensure(this.top);
    this.heap.fill(fill, at, at + size);
    return at;
  }

  private ensure(elements: number): void {
    if (this.heap.length >= elements) return;
    if (this.k !== null) {
      const need = elements * 8 - this.k.mem.buffer.byteLength;
      // Grow by at least half again, so that a sequence of larger batches does not grow every time.
      const pages = Math.max(Math.ceil(need / PAGE), Math.ceil(this.k.mem.buffer.byteLength / PAGE / 2));
      this.k.mem.grow(pages);
      this.heap = new Float64Array(this.k.mem.buffer);
      return;
    }
    const next = new Float64Array(Math.max(elements, Math.ceil(this.heap.length * 1.5)));
    next.set(this.heap);
    this.heap = next;
  }

  /** A view of `n` doubles at `offset` (invalid once the workspace grows). */
  view(offset: number, n: number): Float64Array {
    return this.heap.subarray(offset, offset + n);
  }

  /** C[m×n] (+)= A·B, A[i, p] = a[i·sai + p·sap], B [k×n] and C contiguous; n even. */
  matmul(
    m: number,
    n: number,
    k: number,
    a: number,
    sai: number,
    sap: number,
    b: number,
    c: number,
    accumulate: boolean,
  ): void {
    if (this.k !== null) {
      this.k.axpy(m, n, k, a * 8, sai * 8, sap * 8, b * 8, c * 8, accumulate ? 1 : 0);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < m; i++) {
      const ci = c + i * n;
      if (!accumulate) h.fill(0, ci, ci + n);
      for (let p = 0; p < k; p++) {
        const w = h[a + i * sai + p * sap];
        const bp = b + p * n;
        for (let j = 0; j < n; j++) h[ci + j] += w * h[bp + j];
      }
    }
  }

  /** C[m×n] (+)= A[m×k]·B[n×k]ᵀ (all contiguous); k even. */
  matmulTransB(m: number, n: number, k: number, a: number, b: number, c: number, accumulate: boolean): void {
    if (this.k !== null) {
      this.k.dots(m, n, k, a * 8, b * 8, c * 8, accumulate ? 1 : 0);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += h[a + i * k + p] * h[b + j * k + p];
        h[c + i * n + j] = accumulate ? h[c + i * n + j] + s : s;
      }
    }
  }

  tanh(n: number, x: number, out: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.tanh(n * 8, x * 8, out * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) h[out + i] = Math.tanh(h[x + i]);
  }

  elu(n: number, x: number, out: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.elu(n * 8, x * 8, out * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) {
      const v = h[x + i];
      h[out + i] = v > 0 ? v : Math.expm1(v);
    }
  }

  /** g ← g·(1 − y²). */
  tanhGrad(n: number, g: number, y: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.tanhGrad(n * 8, g * 8, y * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) h[g + i] *= 1 - h[y + i] * h[y + i];
  }

  /** g ← g·(y > 0 ? 1 : y + 1). */
  eluGrad(n: number, g: number, y: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.eluGrad(n * 8, g * 8, y * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) if (!(h[y + i] > 0)) h[g + i] *= h[y + i] + 1;
  }

  relu(n: number, x: number, out: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.relu(n * 8, x * 8, out * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) {
      const v = h[x + i];
      h[out + i] = v > 0 || Number.isNaN(v) ? v : 0;
    }
  }

  /** g ← y > 0 ? g : 0. */
  reluGrad(n: number, g: number, y: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.reluGrad(n * 8, g * 8, y * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) if (!(h[y + i] > 0)) h[g + i] = 0;
  }

  /** y ← y + alpha·x. */
  axpy(n: number, alpha: number, x: number, y: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.axpyv(n * 8, alpha, x * 8, y * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) h[y + i] += alpha * h[x + i];
  }

  /** out ← x + alpha·y. */
  addScaled(n: number, x: number, alpha: number, y: number, out: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.addScaled(n * 8, x * 8, alpha, y * 8, out * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) h[out + i] = h[x + i] + alpha * h[y + i];
  }

  /** out ← alpha·x. */
  scale(n: number, alpha: number, x: number, out: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.scale(n * 8, alpha, x * 8, out * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) h[out + i] = alpha * h[x + i];
  }

  /** out ← alpha·x + beta. */
  affine(n: number, alpha: number, beta: number, x: number, out: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.affine(n * 8, alpha, beta, x * 8, out * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) h[out + i] = alpha * h[x + i] + beta;
  }

  /** out ← x·y elementwise. */
  mul(n: number, x: number, y: number, out: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.mul(n * 8, x * 8, y * 8, out * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) h[out + i] = h[x + i] * h[y + i];
  }

  /** out ← b + z·(a − b) elementwise. */
  lerp(n: number, z: number, a: number, b: number, out: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.lerp(n * 8, z * 8, a * 8, b * 8, out * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) h[out + i] = h[b + i] + h[z + i] * (h[a + i] - h[b + i]);
  }

  /**
   * The backward factors of a GRU's update h' = n + z·(h − n), from g = dL/dh' and the candidate n and update
   * gate z as activations: gn ← g·(1 − z)·(1 − n²), gz ← g·(h − n)·z·(1 − z), gh ← g·z.
   */
  gruGrad(
    n: number,
    g: number,
    z: number,
    cand: number,
    hp: number,
    gn: number,
    gz: number,
    gh: number,
  ): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.gruGrad(n * 8, g * 8, z * 8, cand * 8, hp * 8, gn * 8, gz * 8, gh * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) {
      const gi = h[g + i];
      const zi = h[z + i];
      const ni = h[cand + i];
      h[gn + i] = gi * (1 - zi) * (1 - ni * ni);
      h[gz + i] = gi * (h[hp + i] - ni) * zi * (1 - zi);
      h[gh + i] = gi * zi;
    }
  }

  /**
   * The backward factors of a GRU's reset product b = r·h, from gb = dL/db and the reset gate r as an
   * activation: gr ← gb·h·r·(1 − r), gh ← gh + gb·r.
   */
  gruResetGrad(n: number, gb: number, hp: number, r: number, gr: number, gh: number): void {
    checkLength(n);
    if (this.k !== null) {
      this.k.gruResetGrad(n * 8, gb * 8, hp * 8, r * 8, gr * 8, gh * 8);
      return;
    }
    const h = this.heap;
    for (let i = 0; i < n; i++) {
      const b = h[gb + i];
      const ri = h[r + i];
      h[gr + i] = b * h[hp + i] * ri * (1 - ri);
      h[gh + i] += b * ri;
    }
  }

  /**
   * Column norms of x [rows, width]: out[c] = √(Σ_j x[j, c]² + 10⁻³⁰) (the tiny term keeps a zero column's
   * norm positive; for any other column it is lost to rounding).
   */
  columnNorms(rows: number, width: number, x: number, out: number): void {
    const h = this.heap;
    h.fill(1e-30, out, out + width);
    for (let j = 0; j < rows; j++) {
      const row = x + j * width;
      for (let c = 0; c < width; c++) h[out + c] += h[row + c] * h[row + c];
    }
    for (let c = 0; c < width; c++) h[out + c] = Math.sqrt(h[out + c]);
  }

  /** out[j, c] = x[j, c]·s[c] for x [rows, width] (`divide`: x[j, c] / s[c]). */
  scaleColumns(rows: number, width: number, x: number, s: number, out: number, divide = false): void {
    const h = this.heap;
    for (let j = 0; j < rows; j++) {
      const a = x + j * width;
      const o = out + j * width;
      if (divide) for (let c = 0; c < width; c++) h[o + c] = h[a + c] / h[s + c];
      else for (let c = 0; c < width; c++) h[o + c] = h[a + c] * h[s + c];
    }
  }

  /**
   * Backward of f(y) = ρ·m(u), u = y/ρ, ρ = ‖y‖ per column, for [rows, width] blocks: given g = dL/df, m,
   * u, ρ and gu = (∂m/∂u)ᵀ(ρ·g), adds (or, unless `accumulate`, writes) dL/dy = gu/ρ + u·(g·m − u·gu/ρ) to
   * gIn, the dot products taken over each column's rows.
   */
  homogeneousGrad(
    rows: number,
    width: number,
    g: number,
    m: number,
    u: number,
    rho: number,
    gu: number,
    gIn: number,
    accumulate: boolean,
  ): void {
    const h = this.heap;
    for (let c = 0; c < width; c++) {
      const inv = 1 / h[rho + c];
      let gm = 0;
      let ugu = 0;
      for (let j = 0; j < rows; j++) {
        const at = j * width + c;
        gm += h[g + at] * h[m + at];
        ugu += h[u + at] * h[gu + at];
      }
      const radial = gm - ugu * inv;
      for (let j = 0; j < rows; j++) {
        const at = j * width + c;
        const v = h[gu + at] * inv + h[u + at] * radial;
        h[gIn + at] = accumulate ? h[gIn + at] + v : v;
      }
    }
  }
}

function checkLength(n: number): void {
  if ((n & (WORKSPACE_ALIGN - 1)) !== 0) {
    throw new RangeError(`Workspace: elementwise lengths must be multiples of ${WORKSPACE_ALIGN}, got ${n}`);
  }
}
