/**
 * odeint forward+backward on the spiral dynamics of the neural-ODE demo (torchdiffeq's ode_demo.py setup):
 * f(t, y) = Linear(50→2)(tanh(Linear(2→50)(y³))), weights N(0, 0.1²), biases 0, batch 20, 10 output times
 * 25/999 apart, dopri5 with rtol 1e-7 and atol 1e-9, loss mean|y − target|. Reports the median time of one
 * forward+backward per gradient mode (ms) and the forward/backward function evaluations.
 */
import { backward } from '../src/autograd/index.js';
import { Rng } from '../src/random/index.js';
import { createOdeStats, type GradientMode, odeint } from '../src/sensitivity/index.js';
import { abs, linear, mean, powScalar, sub, Tensor, tanh } from '../src/tensor/index.js';
import type { BenchOptions } from './run.js';

function normal(rng: Rng, shape: number[], scale: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = scale * rng.normal();
  return new Tensor(d, shape, true);
}

export async function run(options: BenchOptions): Promise<void> {
  const quick = options.args.includes('--quick');
  const repeats = quick ? 15 : 60;
  const rng = new Rng(0);
  const w1 = normal(rng, [50, 2], 0.1);
  const b1 = new Tensor(new Float64Array(50), [50], true);
  const w2 = normal(rng, [2, 50], 0.1);
  const b2 = new Tensor(new Float64Array(2), [2], true);
  const params = [w1, b1, w2, b2];
  const func = (_t: Tensor, y: Tensor) => linear(tanh(linear(powScalar(y, 3), w1, b1)), w2, b2);
  const batch = 20;
  const y0 = normal(rng, [batch, 2], 1);
  y0.requiresGrad = false;
  const times = Array.from({ length: 10 }, (_, i) => (i * 25) / 999);
  const target = normal(rng, [10, batch, 2], 1);
  target.requiresGrad = false;
  const rows: Record<string, string | number>[] = [];
  const cases: [string, GradientMode, boolean][] = [
    ['direct', 'direct', false],
    ['checkpoint', 'checkpoint', false],
    ['adjoint', 'adjoint', false],
    ['adjoint+seminorm', 'adjoint', true],
  ];
  for (const [label, gradient, seminorm] of cases) {
    const stats = createOdeStats();
    const once = () => {
      for (const p of params) p.grad = null;
      const out = odeint(func, y0, times, {
        method: 'dopri5',
        rtol: 1e-7,
        atol: 1e-9,
        gradient,
        params,
        stats,
        ...(seminorm ? { seminorm } : {}),
      });
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
      case: 'spiral-dopri5',
      gradient: label,
      msPerIteration: Number(samples[Math.floor(samples.length / 2)].toFixed(3)),
      forwardNfe: stats.forward.nfe,
      forwardSteps: stats.forward.naccept,
      backwardNfe: stats.backward.nfe,
      storedFloats: stats.storedFloats,
    });
  }
  if (options.json) for (const r of rows) console.log(JSON.stringify(r));
  else console.table(rows);
}
