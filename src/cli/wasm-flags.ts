/**
 * Node-only: turns on WebAssembly relaxed SIMD where it is still behind a V8 flag (Node 20), so that the
 * matrix-product kernels can use fused multiply–adds. Node 22+ and current browsers have it by default,
 * and then this does nothing. Must run before the first kernel module is compiled: the command-line entry
 * point and the benchmarks call it first and import everything else afterwards.
 */
import v8 from 'node:v8';
import { relaxedSimdAvailable } from '../tensor/wasm-asm.js';

/** Whether relaxed SIMD is available afterwards. */
export function enableRelaxedSimd(): boolean {
  if (relaxedSimdAvailable()) return true;
  if (process.env.NEURALODE_NO_RELAXED_SIMD === '1') return false;
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return relaxedSimdAvailable();
}
