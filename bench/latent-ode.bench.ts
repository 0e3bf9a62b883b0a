/**
 * One training iteration of the latent-ODE spiral experiment at torchdiffeq's size (examples/latent_ode.py):
 * batch of 1000 spirals, latent dim 4, dynamics 4 → 20 → 20 → 4 (ELU), recognition RNN with 25 hidden
 * units, decoder 4 → 20 → 2, observation likelihood std 0.3; and the RNN baseline on the same batch. Each
 * iteration builds the batch, evaluates the negative ELBO (or next-step loss) with its gradient and takes one
 * Adam step. Reports the median, minimum and maximum ms per iteration for 30, 50 and 100 observations per
 * trajectory, for the experiment's defaults (RK4 steps of at most 0.25) on one thread and on a
 * worker pool, and as `neuralode train latent-ode` trains it (consistency term and linear skips on), with the
 * Elman encoder and with `--encoder gru`.
 * `--quick` times fewer iterations.
 */
import { makeSpirals, sampleObservationIndices } from '../src/data/spirals.js';
import { spiralTrainingBatch } from '../src/experiments/latent-ode/batches.js';
import { LatentOde, type LatentOdeOptions } from '../src/models/latent-ode.js';
import type { ObservationBatch } from '../src/models/latent-ode-batch.js';
import { LatentOdePool } from '../src/models/latent-ode-pool.js';
import { RnnBaseline } from '../src/models/rnn-baseline.js';
import { Adam } from '../src/optim/adam.js';
import { Rng } from '../src/random/index.js';
import type { BenchOptions } from './run.js';

interface Variant {
  readonly name: string;
  readonly options?: Partial<LatentOdeOptions>;
  readonly threads: number;
}

const VARIANTS: readonly Variant[] = [
  { name: 'latent-ode', threads: 1 },
  { name: 'latent-ode', threads: 2 },
  {
    name: 'latent-ode, CLI defaults',
    options: { consistency: 300, consistencySplits: [0.1, 0.9], decoderSkip: true, dynamicsSkip: true },
    threads: 2,
  },
  {
    name: 'latent-ode, CLI defaults, GRU encoder',
    options: {
      consistency: 300,
      consistencySplits: [0.1, 0.9],
      decoderSkip: true,
      dynamicsSkip: true,
      encoder: 'gru',
    },
    threads: 2,
  },
  { name: 'rnn', threads: 1 },
];

export async function run(options: BenchOptions): Promise<void> {
  const quick = options.args.includes('--quick');
  const repeats = quick ? 5 : 20;
  const rng = new Rng(0);
  const data = makeSpirals(rng, { count: 1000, noiseStd: 0.3 });
  const rows = Int32Array.from({ length: data.count }, (_, i) => i);
  const out: Record<string, string | number>[] = [];
  for (const n of [30, 50, 100]) {
    const obs = sampleObservationIndices(rng, data.count, data.trainPoints, n);
    for (const variant of VARIANTS) {
      const modelOptions: LatentOdeOptions = {
        obsDim: 2,
        observationStd: 0.3,
        maxStep: 0.25,
        ...variant.options,
      };
      const model =
        variant.name === 'rnn' ? new RnnBaseline({ obsDim: 2 }, rng) : new LatentOde(modelOptions, rng);
      const pool = variant.threads > 1 ? await LatentOdePool.create(modelOptions, variant.threads) : null;
      const optimizer = new Adam(model.parameters.length, { lr: 0.01 });
      let previous: ObservationBatch | undefined;
      const once = () => {
        const batch = spiralTrainingBatch(data, obs, n, rows, undefined, previous);
        previous = batch;
        if (model instanceof RnnBaseline) model.lossAndGradient(batch);
        else if (pool !== null) pool.lossAndGradient(model, batch, rng);
        else model.lossAndGradient(batch, rng);
        optimizer.step(model.parameters, model.gradients);
      };
      for (let i = 0; i < 3; i++) once();
      const samples: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const start = performance.now();
        once();
        samples.push(performance.now() - start);
      }
      pool?.close();
      samples.sort((a, b) => a - b);
      out.push({
        suite: 'latent-ode',
        model: variant.name,
        threads: variant.threads,
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
