/**
 * A deterministic toy experiment for the CLI tests: fits y = a x² + b x + c to noisy samples with minibatch
 * SGD with momentum. It uses the Rng for the data, the initial parameters and the minibatches, and keeps a
 * velocity vector as optimizer state, so a resumed run only matches an uninterrupted one if parameters,
 * optimizer state, RNG state and iteration are all restored.
 *
 * Run as a script, it is the `neuralode` CLI with only this experiment registered.
 */
import { pathToFileURL } from 'node:url';
import { defineExperiment, ExperimentRegistry, option } from '../src/cli/index.js';
import { runCli } from '../src/cli/program.js';
import { lossCurve } from '../src/viz/index.js';

const N = 64;

export const toyExperiment = defineExperiment({
  name: 'quadratic',
  description: 'Fit a 3-parameter quadratic with minibatch SGD (test fixture)',
  defaultIters: 60,
  defaultCheckpointEvery: 10,
  options: {
    lr: option.number('--lr <x>', 'learning rate', 0.1, { min: 0, exclusiveMin: true }),
    momentum: option.number('--momentum <x>', 'momentum', 0.9, { min: 0, max: 1 }),
    batchSize: option.integer('--batch-size <n>', 'minibatch size', 8, { min: 1, max: N }),
    stepDelayMs: {
      ...option.integer('--step-delay-ms <n>', 'sleep per step (to test signals)', 0, { min: 0 }),
      affectsResult: false,
    },
    stopAt: {
      ...option.integer('--stop-at <n>', 'raise SIGINT in-process after this iteration (tests)', -1),
      affectsResult: false,
    },
    plot: { ...option.flag('--plot', 'write a loss-curve figure'), affectsResult: false },
  },
  async run(config, ctx) {
    const rng = ctx.rng;
    const xs = new Float64Array(N);
    const ys = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      xs[i] = rng.uniformIn(-1, 1);
      ys[i] = 0.5 * xs[i] * xs[i] - xs[i] + 0.3 + 0.05 * rng.normal();
    }
    const theta = rng.fillNormal(new Float64Array(3), 0, 0.1);
    let velocity: Float64Array = new Float64Array(3);
    if (ctx.checkpoint) {
      theta.set(ctx.checkpoint.params.get('theta')!.data);
      velocity = (ctx.checkpoint.optimizer as { velocity: Float64Array }).velocity;
      rng.setState(ctx.checkpoint.rng!);
      ctx.log(`resuming at iteration ${ctx.startIter}`);
    }
    const fullLoss = () => {
      let s = 0;
      for (let i = 0; i < N; i++) {
        const r = theta[0] * xs[i] * xs[i] + theta[1] * xs[i] + theta[2] - ys[i];
        s += r * r;
      }
      return s / N;
    };
    const losses: number[] = [];
    const result = await ctx.train({
      step(iter) {
        if (config.stepDelayMs > 0)
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, config.stepDelayMs);
        const g = new Float64Array(3);
        let loss = 0;
        for (let k = 0; k < config.batchSize; k++) {
          const i = rng.int(N);
          const r = theta[0] * xs[i] * xs[i] + theta[1] * xs[i] + theta[2] - ys[i];
          loss += r * r;
          g[0] += (2 * r * xs[i] * xs[i]) / config.batchSize;
          g[1] += (2 * r * xs[i]) / config.batchSize;
          g[2] += (2 * r) / config.batchSize;
        }
        for (let j = 0; j < 3; j++) {
          velocity[j] = config.momentum * velocity[j] - config.lr * g[j];
          theta[j] += velocity[j];
        }
        losses.push(loss / config.batchSize);
        if (iter + 1 === config.stopAt) process.emit('SIGINT', 'SIGINT');
        return { loss: loss / config.batchSize };
      },
      evalEvery: 20,
      onEval: () => ({ fullLoss: fullLoss() }),
      saveCheckpoint: (completed) => {
        ctx.saveCheckpoint({ iteration: completed, params: { theta }, optimizer: { velocity } });
      },
    });
    if (config.plot)
      ctx.saveFigure(lossCurve(losses, { width: 320, height: 240, title: 'toy loss' }), 'loss');
    return { finalLoss: fullLoss(), a: theta[0], b: theta[1], c: theta[2], completed: result.completedIters };
  },
});

export function toyRegistry(): ExperimentRegistry {
  return new ExperimentRegistry().register(toyExperiment);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runCli(process.argv, { registry: toyRegistry() }).then((code) => {
    process.exitCode = code;
  });
}
