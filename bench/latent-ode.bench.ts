/**
 * One training iteration of the latent-ODE spiral experiment at torchdiffeq's size: batch of 1000 spirals,
 * latent dim 4, dynamics 4 → 20 → 20 → 4 (ELU), recognition RNN with 25 hidden units, decoder 4 → 20 → 2,
 * observation likelihood std 0.3; and the RNN baseline on the same batch. Each iteration builds the batch,
 * evaluates the negative ELBO (or next-step loss) with its gradient and takes one Adam step. Reports the
 * median, minimum and maximum ms per iteration for 30, 50 and 100 observations per trajectory.
 * `--quick` times fewer iterations.
 */
import { makeSpirals, sampleObservationIndices } from '../src/data/spirals.js';
import { spiralTrainingBatch } from '../src/experiments/latent-ode/batches.js';
import { LatentOde } from '../src/models/latent-ode.js';
import { RnnBaseline } from '../src/models/rnn-baseline.js';
import { Adam } from '../src/optim/adam.js';
import { Rng } from '../src/random/index.js';
import type { BenchOptions } from './run.js';

export async function run(options: BenchOptions): Promise<void> {
  const quick = options.args.includes('--quick');
  const repeats = quick ? 5 : 20;
  const rng = new Rng(0);
  const data = makeSpirals(rng, { count: 1000, noiseStd: 0.3 });
  const rows = Int32Array.from({ length: data.count }, (_, i) => i);
  const out: Record<string, string | number>[] = [];
  for (const n of [30, 50, 100]) {
    const obs = sampleObservationIndices(rng, data.count, data.trainPoints, n);
    for (const kind of ['latent-ode', 'rnn'] as const) {
      const model =
        kind === 'latent-ode'
          ? new LatentOde({ obsDim: 2, observationStd: 0.3 }, rng)
          : new RnnBaseline({ obsDim: 2 }, rng);
      const optimizer = new Adam(model.parameters.length, { lr: 0.01 });
      const once = () => {
        const batch = spiralTrainingBatch(data, obs, n, rows);
        if (model instanceof LatentOde) model.lossAndGradient(batch, rng);
        else model.lossAndGradient(batch);
        optimizer.step(model.parameters, model.gradients);
      };
      for (let i = 0; i < 3; i++) once();
      const samples: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const start = performance.now();
        once();
        samples.push(performance.now() - start);
      }
      samples.sort((a, b) => a - b);
      out.push({
        suite: 'latent-ode',
        model: kind,
        batch: data.count,
        observations: n,
        msPerIteration: Number(samples[Math.floor(samples.length / 2)].toFixed(2)),
        min: Number(samples[0].toFixed(2)),
        max: Number(samples[samples.length - 1].toFixed(2)),
      });
    }
  }
  if (options.json) for (const r of out) console.log(JSON.stringify(r));
  else console.table(out);
}
