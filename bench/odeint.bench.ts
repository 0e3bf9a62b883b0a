/**
 * odeint forward+backward on the spiral dynamics of the neural-ODE demo (torchdiffeq's ode_demo.py setup):
 * f(t, y) = Linear(50→2)(tanh(Linear(2→50)(y³))), weights N(0, 0.1²), biases 0, batch 20, 10 output times
 * 25/999 apart, dopri5 with rtol 1e-7 and atol 1e-9, loss mean|y − target|. Reports the median time of one
 * forward+backward per gradient mode (ms) and the forward/backward function evaluations, for the model as a
 * Module (`path: kernels`, its fused flat kernels) and for the same network as a plain function of tensors
 * (`path: tensor`, recorded and differentiated by autograd at every evaluation). Case `sequential-mlp` runs
 * the same way on `Sequential(Linear(2→50), Tanh, Linear(50→2))` (no cube) from nn layers: odeint's kernels
 * built for a plain Sequential MLP against `flatKernels: false`.
 */
import { backward } from '../src/autograd/index.js';
import { SpiralDynamics } from '../src/models/spiral-dynamics.js';
import { Linear, Sequential, Tanh } from '../src/nn/index.js';
import { Rng } from '../src/random/index.js';
import { createOdeStats, type GradientMode, odeint } from '../src/sensitivity/index.js';
import { abs, mean, sub, Tensor } from '../src/tensor/index.js';
import type { BenchOptions } from './run.js';

function normal(rng: Rng, shape: number[], scale: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = scale * rng.normal();
  return new Tensor(d, shape);
}

export async function run(options: BenchOptions): Promise<void> {
  const quick = options.args.includes('--quick');
  const repeats = quick ? 15 : 60;
  const rng = new Rng(0);
  const model = new SpiralDynamics({ rng }).finalize();
  const params = model.parameterTensors();
  const sequential = new Sequential(
    new Linear(2, 50, { rng }),
    new Tanh(),
    new Linear(50, 2, { rng }),
  ).finalize();
  const tensorPath = (_t: Tensor, y: Tensor) => model.forward(y);
  const batch = 20;
  const y0 = normal(rng, [batch, 2], 1);
  const times = Array.from({ length: 10 }, (_, i) => (i * 25) / 999);
  const target = normal(rng, [10, batch, 2], 1);
  const rows: Record<string, string | number>[] = [];
  const cases: [string, GradientMode, boolean][] = [
    ['direct', 'direct', false],
    ['checkpoint', 'checkpoint', false],
    ['adjoint', 'adjoint', false],
    ['adjoint+seminorm', 'adjoint', true],
  ];
  for (const [name, path] of [
    ['spiral-dopri5', 'kernels'],
    ['spiral-dopri5', 'tensor'],
    ['sequential-mlp-dopri5', 'kernels'],
    ['sequential-mlp-dopri5', 'tensor'],
  ] as const) {
    for (const [label, gradient, seminorm] of cases) {
      const stats = createOdeStats();
      const once = () => {
        model.zeroGrad();
        sequential.zeroGrad();
        const solver = {
          method: 'dopri5',
          rtol: 1e-7,
          atol: 1e-9,
          gradient,
          stats,
          ...(seminorm ? { seminorm } : {}),
        } as const;
        const out =
          name === 'sequential-mlp-dopri5'
            ? odeint(sequential, y0, times, { ...solver, flatKernels: path === 'kernels' })
            : path === 'kernels'
              ? odeint(model, y0, times, solver)
              : odeint(tensorPath, y0, times, { ...solver, params });
        backward(mean(abs(sub(out, target))));
      };
      for (let i = 0; i < 40; i++) once();
      const samples: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const start = performance.now();
        once();
        samples.push(performance.now() - start);
      }
      samples.sort((a, b) => a - b);
      rows.push({
        suite: 'odeint',
        case: name,
        path,
        gradient: label,
        msPerIteration: Number(samples[Math.floor(samples.length / 2)].toFixed(3)),
        forwardNfe: stats.forward.nfe,
        forwardSteps: stats.forward.naccept,
        backwardNfe: stats.backward.nfe,
        storedFloats: stats.storedFloats,
      });
    }
  }
  if (options.json) for (const r of rows) console.log(JSON.stringify(r));
  else console.table(rows);
}
