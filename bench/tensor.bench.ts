/**
 * Tensor-core benchmarks: matmul throughput, per-op overhead on tiny tensors, and the forward/backward cost of
 * the 2→64→64→2 tanh MLP that a small neural ODE evaluates thousands of times per solve.
 *
 * Reference (PyTorch 1.13, float64, same 2-core machine): tiny op 1.5 µs; MLP forward+backward 102 µs at
 * batch 1, 185 µs at batch 16, 1.05 ms at batch 512; matmul 256² 87 GFLOP/s.
 * Floors for neuralode: tiny op ≤ 1 µs; MLP fwd+bwd ≤ 10 / 150 / 3000 µs; matmul 256² ≥ 2 GFLOP/s.
 *
 * `--quick` shortens the runs.
 */
import { backward, noGrad } from '../src/autograd/index.js';
import { Rng } from '../src/random/index.js';
import {
  add,
  allocResidentFloat64,
  linear,
  matmul,
  randn,
  setWasmKernelsEnabled,
  sum,
  Tensor,
  tanh,
  wasmKernelsAvailable,
} from '../src/tensor/index.js';
import type { BenchOptions } from './run.js';

/** Results are folded into this sink so the engine cannot drop the measured work as dead code. */
let sink = 0;

interface Row {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly floor?: string;
}

/** Median over `runs` of the mean time per call (µs) of `fn`, after warming up. */
function timeIt(fn: () => unknown, targetMs: number, runs: number): number {
  // Calibrate iterations so one run lasts about targetMs.
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    const dt = performance.now() - t0;
    if (dt > targetMs / 4 || iters > 1e7) {
      iters = Math.max(1, Math.round((iters * targetMs) / Math.max(dt, 1e-3)));
      break;
    }
    iters *= 4;
  }
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    samples.push(((performance.now() - t0) * 1000) / iters);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/**
 * The 2→64→64→2 tanh MLP with parameters as views into one flat vector allocated the way src/nn allocates it
 * (`allocResidentFloat64`).
 */
function makeMlp(rng: Rng) {
  const sizes: [number, number][] = [
    [64, 2],
    [64, 64],
    [2, 64],
  ];
  let total = 0;
  for (const [o, i] of sizes) total += o * i + o;
  const theta = allocResidentFloat64(total);
  const grad = allocResidentFloat64(total);
  rng.fillNormal(theta, 0, 0.3);
  const params: Tensor[] = [];
  let off = 0;
  for (const [o, i] of sizes) {
    params.push(Tensor.leafView(theta.subarray(off, off + o * i), [o, i], grad.subarray(off, off + o * i)));
    off += o * i;
    params.push(Tensor.leafView(theta.subarray(off, off + o), [o], grad.subarray(off, off + o)));
    off += o;
  }
  const forward = (x: Tensor): Tensor => {
    const h1 = tanh(linear(x, params[0], params[1]));
    const h2 = tanh(linear(h1, params[2], params[3]));
    return linear(h2, params[4], params[5]);
  };
  return { forward, grad };
}

export async function run(options: BenchOptions): Promise<void> {
  const quick = options.args.includes('--quick');
  const targetMs = quick ? 40 : 150;
  const runs = quick ? 3 : 7;
  const rng = new Rng(42);
  const rows: Row[] = [];

  for (const n of [64, 256]) {
    const a = randn([n, n], rng);
    const b = randn([n, n], rng);
    setWasmKernelsEnabled(false);
    const scalarUs = timeIt(() => (sink += matmul(a, b).data[0]), targetMs * 2, runs);
    setWasmKernelsEnabled(true);
    rows.push({
      name: `matmul ${n}x${n} f64, scalar JS kernel`,
      value: (2 * n * n * n) / (scalarUs * 1e3),
      unit: 'GFLOP/s',
    });
    const us = timeIt(() => (sink += matmul(a, b).data[0]), targetMs * 2, runs);
    rows.push({
      name: `matmul ${n}x${n} f64${wasmKernelsAvailable ? ', WASM SIMD kernel' : ''}`,
      value: (2 * n * n * n) / (us * 1e3),
      unit: 'GFLOP/s',
      floor: n === 256 ? '>= 2' : undefined,
    });
  }

  const p = randn([2], rng);
  const q = randn([2], rng);
  rows.push({
    name: 'add [2]+[2], no grad',
    value: timeIt(() => (sink += add(p, q).data[0]), targetMs, runs),
    unit: 'us',
    floor: '<= 1',
  });
  const pg = randn([2], rng, { requiresGrad: true });
  rows.push({
    name: 'add [2]+[2], recording',
    value: timeIt(() => (sink += add(pg, q).data[0]), targetMs, runs),
    unit: 'us',
    floor: '<= 1',
  });
  rows.push({
    name: 'add+sum+backward [2], full step',
    value: timeIt(() => backward(sum(add(pg, q))), targetMs, runs),
    unit: 'us',
  });

  const mlp = makeMlp(rng);
  const floors: Record<number, string> = { 1: '<= 10', 16: '<= 150', 512: '<= 3000' };
  for (const batch of [1, 16, 512]) {
    const x = randn([batch, 2], rng);
    rows.push({
      name: `MLP 2-64-64-2 tanh forward (no grad), batch ${batch}`,
      value: timeIt(() => (sink += noGrad(() => mlp.forward(x)).data[0]), targetMs, runs),
      unit: 'us',
    });
    rows.push({
      name: `MLP 2-64-64-2 tanh forward+backward, batch ${batch}`,
      value: timeIt(
        () => {
          mlp.grad.fill(0);
          backward(sum(mlp.forward(x)));
        },
        targetMs,
        runs,
      ),
      unit: 'us',
      floor: floors[batch],
    });
  }

  if (!Number.isFinite(sink)) console.error('tensor bench: non-finite checksum');
  if (options.json) {
    for (const r of rows) console.log(JSON.stringify({ suite: 'tensor', ...r }));
    return;
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const v = r.value >= 100 ? r.value.toFixed(0) : r.value >= 10 ? r.value.toFixed(1) : r.value.toFixed(3);
    console.log(
      `${r.name.padEnd(width)}  ${v.padStart(9)} ${r.unit.padEnd(8)} ${r.floor ? `(floor ${r.floor})` : ''}`,
    );
  }
}
