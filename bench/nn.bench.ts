/**
 * Costs of the nn/optim/io layer: forward and forward+backward of small MLP vector fields (the size that
 * dominates neural-ODE training), a ConcatSquash field, one optimizer step per parameter, and safetensors
 * encode/decode throughput. Times are the median of repeated runs after a warm-up, in µs.
 *
 * "forwardBackward" is one training step short of the optimizer update: zero the flat gradient vector, run the
 * model, reduce to a scalar loss (a sum for the plain cases, a mean squared error against a fixed target for
 * the "train step" cases), and backward, which leaves every parameter's gradient in `model.gradients`.
 */
import { decodeSafetensors, encodeSafetensors } from '../src/io/index.js';
import { ConcatSquashLinear, Linear, type Module, Sequential, Tanh } from '../src/nn/index.js';
import { Adam, Sgd } from '../src/optim/index.js';
import { Rng } from '../src/random/index.js';
import { mseLoss, Tensor } from '../src/tensor/index.js';
import type { BenchOptions } from './run.js';

function median(f: () => void, repeats: number, warmup = 20): number {
  for (let i = 0; i < warmup; i++) f();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    f();
    times.push((performance.now() - start) * 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function randomInput(rng: Rng, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(rng.fillNormal(new Float64Array(n)), shape);
}

export function run(options: BenchOptions): void {
  const quick = options.args.includes('--quick');
  const repeats = quick ? 50 : 500;
  const rng = new Rng(0);
  const rows: Record<string, string | number>[] = [];

  for (const [width, batch] of [
    [50, 1],
    [50, 64],
    [200, 256],
  ]) {
    const model: Module & { forward(x: Tensor): Tensor } = new Sequential(
      new Linear(2, width, { rng }),
      new Tanh(),
      new Linear(width, width, { rng }),
      new Tanh(),
      new Linear(width, 2, { rng }),
    ).finalize();
    const x = randomInput(rng, [batch, 2]);
    const forward = median(() => model.forward(x), repeats);
    const backward = median(() => {
      model.zeroGrad();
      model.forward(x).sum().backward();
    }, repeats);
    rows.push({
      case: `MLP 2-${width}-${width}-2 batch ${batch}`,
      params: (model as Sequential).numParameters,
      forwardUs: forward,
      forwardBackwardUs: backward,
    });
  }

  for (const batch of [1, 16, 512]) {
    const model = new Sequential(
      new Linear(2, 64, { rng }),
      new Tanh(),
      new Linear(64, 64, { rng }),
      new Tanh(),
      new Linear(64, 2, { rng }),
    ).finalize();
    const x = randomInput(rng, [batch, 2]);
    const target = randomInput(rng, [batch, 2]);
    const forward = median(() => model.forward(x), repeats);
    const step = median(() => {
      model.zeroGrad();
      mseLoss(model.forward(x), target).backward();
    }, repeats);
    rows.push({
      case: `MLP 2-64-64-2 batch ${batch}, train step (MSE)`,
      params: model.numParameters,
      forwardUs: forward,
      forwardBackwardUs: step,
    });
  }

  const squash = new Sequential(
    new ConcatSquashLinear(2, 64, { rng }),
    new Tanh(),
    new ConcatSquashLinear(64, 2, { rng }),
  ).finalize();
  const xs = randomInput(rng, [64, 2]);
  rows.push({
    case: 'ConcatSquash 2-64-2 batch 64',
    params: squash.numParameters,
    forwardUs: median(() => squash.forward(0.5, xs), repeats),
    forwardBackwardUs: median(() => {
      squash.zeroGrad();
      squash.forward(0.5, xs).sum().backward();
    }, repeats),
  });

  const n = 1_000_000;
  const theta = rng.fillNormal(new Float64Array(n));
  const grad = rng.fillNormal(new Float64Array(n));
  for (const [name, opt] of [
    ['Sgd momentum', new Sgd(n, { lr: 1e-9, momentum: 0.9 })],
    ['Adam', new Adam(n, { lr: 1e-9 })],
  ] as const) {
    const us = median(() => opt.step(theta, grad), quick ? 5 : 30, 3);
    rows.push({ case: `${name} step, 1e6 params`, nsPerParam: (us * 1000) / n });
  }

  const entries = [{ name: 'theta', dtype: 'F64' as const, shape: [n], data: theta }];
  const encodeUs = median(() => encodeSafetensors(entries), quick ? 5 : 20, 2);
  const bytes = encodeSafetensors(entries);
  const decodeUs = median(() => decodeSafetensors(bytes), quick ? 5 : 20, 2);
  rows.push({ case: 'safetensors 8 MB', encodeMBps: 8 / (encodeUs / 1e6), decodeMBps: 8 / (decodeUs / 1e6) });

  if (options.json) for (const r of rows) console.log(JSON.stringify({ suite: 'nn', ...r }));
  else
    console.table(
      rows.map((r) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(4)) : v]),
        ),
      ),
    );
}
