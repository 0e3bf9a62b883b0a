/**
 * Storage allocation for op outputs.
 *
 * V8 allocates typed arrays of at most 64 bytes inside the JS heap (~40 ns), but anything larger gets its own
 * off-heap backing store, which costs about a microsecond per allocation on the reference machine — more than
 * the arithmetic of a 64-wide layer. Op outputs of moderate size are therefore carved out of shared 256 KiB
 * `ArrayBuffer` chunks with a bump pointer (`new Float64Array(chunk, offset, n)`, ~25 ns). Memory is never
 * reused within a chunk (so every allocation is zero-filled, which several kernels rely on); a chunk is
 * reclaimed by the garbage collector once no view into it survives. Large requests get dedicated buffers.
 *
 * Consequence: a small tensor kept for a long time pins its chunk. Factories and `clone()` use dedicated
 * storage, so `x.clone()` is the way to keep a small intermediate result around indefinitely.
 */
import type { TensorData } from './kernels.js';

const CHUNK_BYTES = 262_144;
/** Requests above this many bytes get a dedicated buffer. */
const MAX_POOLED_BYTES = 32_768;
/** Requests up to this many bytes are allocated on the JS heap by V8 anyway. */
const ON_HEAP_BYTES = 64;

let chunk = new ArrayBuffer(CHUNK_BYTES);
let used = 0;

function carve(bytes: number): number {
  if (used + bytes > CHUNK_BYTES) {
    chunk = new ArrayBuffer(CHUNK_BYTES);
    used = 0;
  }
  const off = used;
  // Keep 8-byte alignment for Float64Array views.
  used += (bytes + 7) & ~7;
  return off;
}

/** Zero-filled float64 storage of `n` elements. */
export function allocFloat64(n: number): Float64Array {
  const bytes = n * 8;
  if (bytes <= ON_HEAP_BYTES || bytes > MAX_POOLED_BYTES) return new Float64Array(n);
  const off = carve(bytes);
  return new Float64Array(chunk, off, n);
}

/** Zero-filled float32 storage of `n` elements. */
export function allocFloat32(n: number): Float32Array {
  const bytes = n * 4;
  if (bytes <= ON_HEAP_BYTES || bytes > MAX_POOLED_BYTES) return new Float32Array(n);
  const off = carve(bytes);
  return new Float32Array(chunk, off, n);
}

/** Zero-filled storage of `n` elements with the element type of `like`. */
export function allocLike(like: TensorData, n: number): TensorData {
  return like instanceof Float32Array ? allocFloat32(n) : allocFloat64(n);
}
