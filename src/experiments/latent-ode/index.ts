/**
 * `neuralode train latent-ode`: the latent ODE of Chen et al. (NeurIPS 2018, section 5) on irregularly
 * sampled 2-D spirals, against an RNN baseline, reporting the extrapolation RMSE of the paper's Table 2; or,
 * with `--data series.csv`, a latent ODE trained on the user's own series with forecasts written to CSV.
 *
 * Data (src/data/spirals.ts): `--spirals` training and `--test-spirals` held-out Archimedean spirals
 * r = 0.3·θ centred on the origin, θ on a grid of 1000 values over [0, 6π]; each trajectory has its own random
 * start on the grid, half run counter-clockwise (outwards), half clockwise (inwards), with 200 consecutive
 * grid samples: samples 0–99 are the observed window (times 0 … 1.87, one time unit per radian), samples
 * 100–199 the extrapolation window (`--centre c` moves the counter-clockwise family to (c, 0) and the clockwise
 * one to (−c, 0), as torchdiffeq's example does with c = 5). Observations get Gaussian noise of std `--noise` (0.3, torchdiffeq's
 * value). Each trajectory is observed at `--obs` n distinct random samples of its observed window (n = 100:
 * all of them), the same subset throughout training.
 *
 * RMSE (Table 2): after training, each test spiral's n noisy observations are encoded (posterior mean of
 * z(t0) for the latent ODE; the RNN reads them and then feeds its own predictions back), the model predicts
 * samples 100–199, and the RMSE is √(mean over test spirals, those 100 samples and both coordinates of
 * (prediction − noise-free position)²).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineExperiment, type ExperimentConfig, type ExperimentContext } from '../../cli/experiments.js';
import { option } from '../../cli/options.js';
import { makeSpirals, sampleObservationIndices } from '../../data/spirals.js';
import { saveSafetensors } from '../../io/safetensors.js';
import { LatentOde, type LatentOdeLoss, type LatentOdeOptions } from '../../models/latent-ode.js';
import { encoderInputScale, type ObservationBatch } from '../../models/latent-ode-batch.js';
import { LatentOdePool } from '../../models/latent-ode-pool.js';
import { RnnBaseline } from '../../models/rnn-baseline.js';
import { Adam } from '../../optim/adam.js';
import { ParameterAverage } from '../../optim/average.js';
import { clipGradNorm } from '../../optim/clip.js';
import { CosineSchedule } from '../../optim/schedules.js';
import type { Rng } from '../../random/index.js';
import { RunError } from '../../run/errors.js';
import {
  coveredByTraining,
  extrapolationRmse,
  spiralEvaluationBatch,
  spiralTrainingBatch,
} from './batches.js';
import { runCsvLatentOde } from './csv-run.js';
import { lossFigure, spiralPanels } from './figures.js';

const OPTIONS = {
  model: option.choice('--model <name>', 'latent-ode, rnn (baseline) or both', 'latent-ode', [
    'latent-ode',
    'rnn',
    'both',
  ] as const),
  obs: option.string('--obs <list>', 'observations per training trajectory, e.g. 30 or 30,50,100', '100'),
  batchSize: option.integer(
    '--batch-size <n>',
    'trajectories per iteration (1000: the full training set)',
    300,
    {
      min: 1,
    },
  ),
  lr: option.number('--lr <x>', 'Adam learning rate', 0.005, { min: 0, exclusiveMin: true }),
  warmup: option.integer('--warmup <n>', 'iterations of linear learning-rate warmup', 500, { min: 0 }),
  beta2: option.number('--beta2 <x>', "Adam's second-moment decay", 0.999, {
    min: 0,
    exclusiveMin: true,
    max: 0.999999,
  }),
  ema: option.number(
    '--ema <decay>',
    'evaluate with an exponential moving average of the parameters with this decay (0: the last iterate)',
    0,
    { min: 0, max: 0.999999 },
  ),
  schedule: option.choice(
    '--schedule <name>',
    'learning-rate schedule: cosine decay to lr/20, or constant',
    'cosine',
    ['cosine', 'constant'] as const,
  ),
  spirals: option.integer('--spirals <n>', 'training spirals', 1000, { min: 2 }),
  testSpirals: option.integer('--test-spirals <n>', 'held-out test spirals', 100, { min: 1 }),
  noise: option.number('--noise <x>', 'observation noise std of the spirals', 0.3, { min: 0 }),
  centre: option.number(
    '--centre <c>',
    'counter-clockwise spirals centred at (c, 0), clockwise ones at (-c, 0)',
    0,
    { min: 0 },
  ),
  observationStd: option.number('--observation-std <x>', 'std of the Gaussian likelihood', 0.3, {
    min: 0,
    exclusiveMin: true,
  }),
  encoder: option.choice(
    '--encoder <cell>',
    "the recognition network's recurrent cell: the paper's Elman RNN, or a gated recurrent unit",
    'rnn',
    ['rnn', 'gru'] as const,
  ),
  activation: option.choice('--activation <name>', 'activation of the latent dynamics MLP', 'elu', [
    'elu',
    'tanh',
    'relu',
  ] as const),
  homogeneousDynamics: option.flag(
    '--homogeneous-dynamics',
    'latent dynamics ‖z‖·MLP(z/‖z‖) + A·z: the MLP reads the direction of the state only, so the flow scales with it (see docs/latent-ode.md)',
  ),
  biasFreeDynamics: option.flag(
    '--bias-free-dynamics',
    'leave the bias terms out of the latent dynamics (with --activation relu the flow is positively homogeneous; see docs/latent-ode.md)',
  ),
  decoderActivation: option.choice(
    '--decoder-activation <name>',
    "activation of the decoder's hidden layer",
    'tanh',
    ['tanh', 'elu', 'relu'] as const,
  ),
  linearSkip: option.choice(
    '--linear-skip <parts>',
    'add a linear map of the latent state to the decoder, the dynamics, both or none (see docs/latent-ode.md)',
    'both',
    ['both', 'decoder', 'dynamics', 'none'] as const,
  ),
  consistency: option.number(
    '--consistency <w>',
    'weight of the latent consistency term (0: the plain ELBO; see docs/latent-ode.md)',
    300,
    { min: 0 },
  ),
  consistencyMinLater: option.integer(
    '--consistency-min-later <n>',
    'observations the later part encoded for the consistency term keeps at least (see docs/latent-ode.md)',
    12,
    { min: 1 },
  ),
  consistencyStart: option.integer(
    '--consistency-start <n>',
    'iteration at which the consistency term starts (the plain ELBO before it)',
    0,
    { min: 0 },
  ),
  consistencyRamp: option.integer(
    '--consistency-ramp <n>',
    'then raise its weight linearly from 0 to --consistency over n iterations',
    0,
    { min: 0 },
  ),
  validationSpirals: option.integer(
    '--validation-spirals <n>',
    'spirals, apart from training and test, on which the extrapolation RMSE is checked every --validate-every iterations; the run keeps the parameters where it was lowest (0: the last iterate)',
    100,
    { min: 0 },
  ),
  validateEvery: option.integer('--validate-every <n>', 'iterations between validation checks', 500, {
    min: 1,
  }),
  refine: option.integer(
    '--refine <n>',
    'Levenberg-Marquardt iterations moving each encoded z(t0) to the most probable state given its observations before decoding (0: the encoder mean, as in the paper; see docs/latent-ode.md)',
    10,
    { min: 0 },
  ),
  clip: option.number('--clip <norm>', 'clip the gradient to this norm (0: no clipping)', 200, { min: 0 }),
  poisson: option.flag('--poisson', 'also model the observation times with a Poisson process'),
  maxStep: option.number('--max-step <x>', 'largest RK4 step of the latent ODE', 0.25, {
    min: 0,
    exclusiveMin: true,
  }),
  threads: {
    ...option.integer(
      '--threads <n>',
      "threads for the latent ODE's training steps (rows of each batch split between them)",
      Math.min(4, os.availableParallelism()),
      { min: 1 },
    ),
    defaultDescription: 'number of CPUs, at most 4',
  },
  data: option.string('--data <file>', 'train on your own series: CSV id,time,<variables…>', ''),
  forecast: option.number(
    '--forecast <h>',
    'forecast horizon for --data (0: 25% of the longest series span)',
    0,
    {
      min: 0,
    },
  ),
  forecastPoints: option.integer('--forecast-points <n>', 'forecast times per series for --data', 20, {
    min: 1,
  }),
  skipFigures: { ...option.flag('--skip-figures', 'do not render figures'), affectsResult: false },
};

export type LatentOdeExperimentConfig = ExperimentConfig<typeof OPTIONS>;

type ModelKind = 'latent-ode' | 'rnn';

/** Parses `--obs`: distinct integers in [1, window], in the order given. */
export function parseObservationCounts(raw: string, window: number): number[] {
  const counts = raw.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const c of counts) {
    const n = Number(c);
    if (!/^\d+$/.test(c) || n < 1 || n > window) {
      throw new RunError('invalidArgument', `--obs ${raw}: '${c}' is not an integer in [1, ${window}]`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

export const latentOdeExperiment = defineExperiment({
  name: 'latent-ode',
  description: 'Latent ODE on irregularly sampled spirals vs an RNN baseline (paper Table 2), or on your CSV',
  defaultIters: 20000,
  options: OPTIONS,
  async run(config, ctx) {
    if (config.data !== '') return runCsvLatentOde(config, ctx);
    return runSpirals(config, ctx);
  },
});

async function runSpirals(config: LatentOdeExperimentConfig, ctx: ExperimentContext) {
  const rng = ctx.rng;
  const spiralOptions = { noiseStd: config.noise, centre: config.centre };
  const train = makeSpirals(rng, { count: config.spirals, ...spiralOptions });
  const test = makeSpirals(rng, { count: config.testSpirals, ...spiralOptions });
  const counts = parseObservationCounts(config.obs, train.trainPoints);
  const kinds: ModelKind[] = config.model === 'both' ? ['latent-ode', 'rnn'] : [config.model];
  const phases = counts.flatMap((n) => kinds.map((kind) => ({ n, kind })));
  const single = phases.length === 1;
  if (!single && ctx.checkpoint) {
    throw new RunError(
      'invalidArgument',
      `--resume: only a run of one model and one --obs count can be resumed; this run has ${phases.length} (${config.model}, --obs ${config.obs})`,
    );
  }
  const obsTrain = new Map<number, Int32Array>();
  const obsTest = new Map<number, Int32Array>();
  for (const n of counts) {
    obsTrain.set(n, sampleObservationIndices(rng, train.count, train.trainPoints, n));
    obsTest.set(n, sampleObservationIndices(rng, test.count, test.trainPoints, n));
  }
  // Validation spirals are drawn last, so that training and test data do not depend on their number.
  const validation =
    config.validationSpirals > 0
      ? makeSpirals(rng, { count: config.validationSpirals, ...spiralOptions })
      : null;
  const obsValidation = new Map<number, Int32Array>();
  if (validation !== null) {
    for (const n of counts) {
      obsValidation.set(n, sampleObservationIndices(rng, validation.count, validation.trainPoints, n));
    }
  }
  const batchSize = Math.min(config.batchSize, train.count);
  const rmse: Record<string, Record<string, number>> = {};
  const validationRmse: Record<string, Record<string, number>> = {};
  const selectedIteration: Record<string, Record<string, number>> = {};
  const rmseCovered: Record<string, Record<string, number>> = {};
  // With --refine: the latent ODE's RMSE decoded from the encoder's mean, for comparison.
  const rmseEncoderMean: Record<string, number> = {};
  const rmseEncoderMeanCovered: Record<string, number> = {};
  const covered = coveredByTraining(train, test);
  const msPerIter: Record<string, Record<string, number>> = {};
  const trainSeconds: Record<string, Record<string, number>> = {};
  const finalLoss: Record<string, Record<string, number>> = {};
  for (const { n, kind } of phases) {
    // Inputs of order one for the recurrent networks: positions over their spread, gaps over their mean.
    const inputScale = encoderInputScale(
      spiralTrainingBatch(train, obsTrain.get(n)!, n, allRows(train.count)),
    );
    const modelOptions = latentOdeOptions(config, 2, inputScale);
    const model =
      kind === 'latent-ode'
        ? new LatentOde(modelOptions, rng)
        : new RnnBaseline({ obsDim: 2, inputScale }, rng);
    const stepper = kind === 'latent-ode' ? await latentOdeStepper(modelOptions, config.threads) : null;
    const training = new TrainingState(config, model.parameters);
    if (single) training.resume(ctx);
    if (!single) ctx.log(`${kind}, ${n} observations per trajectory`);
    const observed = obsTrain.get(n)!;
    // The extrapolation RMSE on the validation spirals, measured as on the test spirals.
    const validate =
      validation === null
        ? null
        : (() => {
            const vObs = obsValidation.get(n)!;
            const vBatch = spiralEvaluationBatch(validation, vObs, n);
            const future = validation.times.subarray(validation.trainPoints);
            return () =>
              model instanceof LatentOde
                ? extrapolationRmse(
                    validation,
                    model.predict(vBatch, validation.times, { refine: config.refine }),
                    validation.times.length,
                    0,
                  )
                : extrapolationRmse(
                    validation,
                    model.extrapolate(vBatch, future),
                    future.length,
                    validation.trainPoints,
                  );
          })();
    const losses: number[] = [];
    let computeMs = 0;
    let computed = 0;
    let previous: ObservationBatch | undefined;
    const result = await ctx.train({
      step(iter) {
        const rows =
          batchSize >= train.count
            ? allRows(train.count)
            : rng.permutation(train.count).subarray(0, batchSize);
        const started = performance.now();
        const batch = spiralTrainingBatch(train, observed, n, rows, undefined, previous);
        previous = batch;
        let metrics: Record<string, number>;
        if (model instanceof LatentOde && stepper !== null) {
          const weight = consistencyWeightAt(config, iter);
          metrics = lossMetrics(stepper.step(model, batch, rng, weight), config);
        } else if (model instanceof RnnBaseline) {
          metrics = { loss: model.lossAndGradient(batch).loss };
        } else {
          throw new Error('unreachable: a latent ODE without its stepper');
        }
        training.step(model.gradients, iter);
        computeMs += performance.now() - started;
        computed++;
        losses.push(metrics.loss);
        const completed = iter + 1;
        if (validate !== null && completed % config.validateEvery === 0) {
          metrics.validation_rmse = training.validate(completed, validate);
        }
        return metrics;
      },
      ...(single
        ? {
            saveCheckpoint: (completed: number) => training.save(ctx, completed),
          }
        : {}),
    });
    stepper?.close();
    // The last iterate is a candidate too (checked after the last checkpoint, so a resumed run sees the same
    // validation history as an uninterrupted one).
    if (
      validate !== null &&
      result.completedIters > 0 &&
      result.completedIters % config.validateEvery !== 0
    ) {
      training.validate(result.completedIters, validate);
    }
    training.finish();
    saveModel(
      ctx,
      `${kind}-obs${n}`,
      model.parameters,
      kind,
      kind === 'latent-ode' ? modelOptions : { obsDim: 2, inputScale },
      {
        selected_iteration: String(training.best?.iteration ?? result.completedIters),
      },
    );
    if (training.best !== null) {
      (validationRmse[kind] ??= {})[String(n)] = training.best.score;
      (selectedIteration[kind] ??= {})[String(n)] = training.best.iteration;
    }
    const evalObs = obsTest.get(n)!;
    const evalBatch = spiralEvaluationBatch(test, evalObs, n);
    let predicted: Float64Array;
    let error: number;
    let errorCovered: number;
    if (model instanceof LatentOde) {
      predicted = model.predict(evalBatch, test.times, { refine: config.refine });
      error = extrapolationRmse(test, predicted, test.times.length, 0);
      errorCovered = extrapolationRmse(test, predicted, test.times.length, 0, covered);
      if (config.refine > 0) {
        const plain = model.predict(evalBatch, test.times);
        rmseEncoderMean[String(n)] = extrapolationRmse(test, plain, test.times.length, 0);
        rmseEncoderMeanCovered[String(n)] = extrapolationRmse(test, plain, test.times.length, 0, covered);
      }
    } else {
      const future = test.times.subarray(test.trainPoints);
      const extrapolated = model.extrapolate(evalBatch, future);
      error = extrapolationRmse(test, extrapolated, future.length, test.trainPoints);
      errorCovered = extrapolationRmse(test, extrapolated, future.length, test.trainPoints, covered);
      predicted = withObservedWindow(test, evalBatch.values, evalObs, n, extrapolated);
    }
    (rmse[kind] ??= {})[String(n)] = error;
    (rmseCovered[kind] ??= {})[String(n)] = errorCovered;
    (msPerIter[kind] ??= {})[String(n)] = computed > 0 ? computeMs / computed : 0;
    (trainSeconds[kind] ??= {})[String(n)] = result.elapsedSeconds;
    if (losses.length > 0) (finalLoss[kind] ??= {})[String(n)] = losses[losses.length - 1];
    ctx.log(
      `${kind} --obs ${n}: extrapolation RMSE ${error.toFixed(4)} (${errorCovered.toFixed(4)} over the test spirals whose held-out samples stay where training windows reach)`,
    );
    if (!config.skipFigures) {
      const shown = Array.from({ length: Math.min(6, test.count) }, (_, i) => i);
      ctx.saveFigure(
        spiralPanels(test, evalObs, n, predicted, shown, `${kind}, ${n} observations`),
        `${kind}-obs${n}-spirals`,
      );
      if (losses.length > 1)
        ctx.saveFigure(
          lossFigure(losses, `${kind} training loss, ${n} observations`),
          `${kind}-obs${n}-loss`,
        );
    }
  }
  const all = Object.values(msPerIter).flatMap((r) => Object.values(r));
  return {
    experiment: 'latent-ode',
    iters: config.iters,
    batch_size: batchSize,
    ms_per_iter: all.length > 0 ? all.reduce((a, b) => a + b, 0) / all.length : 0,
    ms_per_iter_by_model: msPerIter,
    rmse,
    rmse_covered: rmseCovered,
    ...(Object.keys(rmseEncoderMean).length > 0
      ? { rmse_encoder_mean: rmseEncoderMean, rmse_encoder_mean_covered: rmseEncoderMeanCovered }
      : {}),
    ...(validation === null
      ? {}
      : { validation_rmse: validationRmse, selected_iteration: selectedIteration }),
    covered_test_spirals: covered.reduce((a, b) => a + b, 0),
    train_seconds: trainSeconds,
    final_loss: finalLoss,
  };
}

/**
 * Writes the parameters a model is evaluated with to `models/<name>.safetensors` in the run directory: one F64
 * tensor `theta`, and as metadata the model class (`model`: 'latent-ode' or 'rnn') and its constructor options
 * as JSON (`options`), so that `new LatentOde(JSON.parse(options), rng)` followed by `parameters.set(theta)`
 * rebuilds it; `metadata` adds entries. Lists the directory under `models` in the run's outputs.
 */
export function saveModel(
  ctx: ExperimentContext,
  name: string,
  parameters: Float64Array,
  kind: 'latent-ode' | 'rnn',
  options: object,
  metadata: Record<string, string> = {},
): string {
  const dir = ctx.runDir.file('models');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.safetensors`);
  saveSafetensors(file, [{ name: 'theta', dtype: 'F64', shape: [parameters.length], data: parameters }], {
    model: kind,
    options: JSON.stringify(options),
    ...metadata,
  });
  ctx.recordOutput('models', dir);
  return file;
}

/** One latent-ODE training step, on `threads` threads (a worker pool when more than one). */
export interface LatentOdeStepper {
  step(model: LatentOde, batch: ObservationBatch, rng: Rng, consistencyWeight: number): LatentOdeLoss;
  close(): void;
}

export async function latentOdeStepper(
  options: LatentOdeOptions,
  threads: number,
): Promise<LatentOdeStepper> {
  if (threads <= 1) {
    return { step: (model, batch, rng, w) => model.lossAndGradient(batch, rng, w), close() {} };
  }
  const pool = await LatentOdePool.create(options, threads);
  return {
    step: (model, batch, rng, w) => pool.lossAndGradient(model, batch, rng, w),
    close: () => pool.close(),
  };
}

/** The terms of a latent-ODE loss that a run logs: the Poisson and consistency terms only when they are on. */
export function lossMetrics(l: LatentOdeLoss, config: LatentOdeExperimentConfig): Record<string, number> {
  const metrics: Record<string, number> = { loss: l.loss, kl: l.kl, logLikelihood: l.logLikelihood };
  if (config.poisson) metrics.timesLogLikelihood = l.timesLogLikelihood;
  if (config.consistency > 0) metrics.consistency = l.consistency;
  return metrics;
}

/**
 * The optimizer side of a latent-ODE run: Adam on the model's parameters (learning rate from
 * {@link learningRate}, `--beta2`), gradient clipping (`--clip`) and the parameter average (`--ema`), with
 * their checkpoints: `theta` and, with the average, `average`.
 */
/** The parameters with the lowest validation score so far. */
export interface BestParameters {
  score: number;
  iteration: number;
  readonly theta: Float64Array;
}

/**
 * The optimizer state of a run and what it evaluates: the last iterate, the parameter average (`--ema`) or,
 * with validation, the parameters (iterate or average) with the lowest validation score.
 */
export class TrainingState {
  readonly optimizer: Adam;
  readonly average: ParameterAverage | null;
  /** Set by the first {@link validate}. */
  best: BestParameters | null = null;
  private updates = 0;

  constructor(
    private readonly config: LatentOdeExperimentConfig,
    readonly parameters: Float64Array,
  ) {
    this.optimizer = new Adam(parameters.length, { lr: learningRate(config), beta2: config.beta2 });
    this.average = config.ema > 0 ? new ParameterAverage(parameters.length, config.ema) : null;
  }

  /** Restores parameters, average, best parameters, optimizer and RNG from the checkpoint being resumed, if any. */
  resume(ctx: ExperimentContext): void {
    const checkpoint = ctx.checkpoint;
    if (!checkpoint) return;
    this.parameters.set(checkpoint.params.get('theta')!.data);
    if (this.average !== null) {
      const saved = checkpoint.params.get('average');
      if (saved === undefined) {
        throw new RunError('invalidArgument', '--resume: the checkpoint holds no parameter average (--ema)');
      }
      this.average.values.set(saved.data);
    }
    const extra = checkpoint.extra as { best?: BestParameters | null } | null;
    const best = extra?.best ?? null;
    if (best !== null) {
      if (!(best.theta instanceof Float64Array) || best.theta.length !== this.parameters.length) {
        throw new RunError(
          'invalidArgument',
          "--resume: the checkpoint's best parameters do not fit this model",
        );
      }
      this.best = { score: best.score, iteration: best.iteration, theta: best.theta.slice() };
    }
    this.optimizer.loadStateDict(checkpoint.optimizer);
    ctx.rng.setState(checkpoint.rng!);
    this.updates = ctx.startIter;
    ctx.log(`resuming at iteration ${ctx.startIter}`);
  }

  /** Clips `gradients`, takes the optimizer step for iteration `iter` and updates the average. */
  step(gradients: Float64Array, iter: number): void {
    if (this.config.clip > 0) clipGradNorm(gradients, this.config.clip);
    this.optimizer.step(this.parameters, gradients);
    this.average?.update(this.parameters, iter);
    this.updates = iter + 1;
  }

  /**
   * Scores the parameters the run would evaluate now (the average with `--ema`) with `score` (lower is
   * better; the model reads `parameters`), keeps them if they are the best so far, and returns the score.
   */
  validate(completed: number, score: () => number): number {
    const evaluated = this.average === null ? this.parameters : this.average.values;
    let value: number;
    if (evaluated === this.parameters) {
      value = score();
    } else {
      const current = this.parameters.slice();
      this.parameters.set(evaluated);
      try {
        value = score();
      } finally {
        this.parameters.set(current);
      }
    }
    // A NaN score (a diverged model) is never the best.
    if (this.best === null) this.best = { score: Infinity, iteration: 0, theta: evaluated.slice() };
    if (value < this.best.score) {
      this.best.score = value;
      this.best.iteration = completed;
      this.best.theta.set(evaluated);
    }
    return value;
  }

  save(ctx: ExperimentContext, completed: number): void {
    ctx.saveCheckpoint({
      iteration: completed,
      params:
        this.average === null
          ? { theta: this.parameters }
          : { theta: this.parameters, average: this.average.values },
      optimizer: this.optimizer.stateDict(),
      extra: { best: this.best },
    });
  }

  /**
   * After training: puts the parameters to evaluate into the model: the best validated ones if there are
   * any, else the average (`--ema`) or the last iterate.
   */
  finish(): void {
    if (this.best !== null && this.best.iteration > 0) this.parameters.set(this.best.theta);
    else if (this.average !== null && this.updates > 0) this.parameters.set(this.average.values);
  }
}

/**
 * The learning rate or schedule chosen by `--lr`, `--schedule` and `--warmup` over `--iters` iterations:
 * a linear warmup, then cosine decay to lr/20.
 */
export function learningRate(config: LatentOdeExperimentConfig): number | CosineSchedule {
  if (config.schedule === 'constant' || config.iters < 2) return config.lr;
  return new CosineSchedule({
    initial: config.lr,
    totalSteps: config.iters,
    minimum: config.lr / 20,
    warmupSteps: Math.min(config.warmup, config.iters - 1),
  });
}

/** The latent ODE's constructor options that the command line sets, for data of `obsDim` variables. */
export function latentOdeOptions(
  config: LatentOdeExperimentConfig,
  obsDim: number,
  encoderInputScale: readonly number[],
): LatentOdeOptions {
  const parts = config.linearSkip;
  return {
    obsDim,
    encoder: config.encoder,
    activation: config.activation,
    dynamicsBias: !config.biasFreeDynamics,
    homogeneousDynamics: config.homogeneousDynamics,
    poisson: config.poisson,
    observationStd: config.observationStd,
    maxStep: config.maxStep,
    decoderActivation: config.decoderActivation,
    decoderSkip: parts === 'both' || parts === 'decoder',
    dynamicsSkip: parts === 'both' || parts === 'dynamics',
    consistency: config.consistency,
    consistencyMinLater: config.consistencyMinLater,
    encoderInputScale,
  };
}

/**
 * The consistency weight at iteration `iter` (0-based): 0 before `--consistency-start`, then a linear ramp
 * over `--consistency-ramp` iterations up to `--consistency`. The defaults (0, 0) put the term on from the
 * first iteration: the fit then starts slowly (a plateau of poor fits for 1000–4000 iterations), but a model
 * that first fits the plain ELBO learns latent states that disagree with the flow, and the term, once it
 * starts, throws the fit back (see docs/latent-ode.md).
 */
export function consistencyWeightAt(config: LatentOdeExperimentConfig, iter: number): number {
  const after = iter - config.consistencyStart;
  if (after < 0) return 0;
  if (config.consistencyRamp <= 0 || after >= config.consistencyRamp) return config.consistency;
  return (config.consistency * after) / config.consistencyRamp;
}

function allRows(count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => i);
}

/**
 * For figures of the RNN: [count, T, 2] whose observed window holds the observations themselves joined by
 * straight lines (the RNN reconstructs nothing) and whose tail is the RNN's extrapolation.
 */
function withObservedWindow(
  data: ReturnType<typeof makeSpirals>,
  values: Float64Array,
  obs: Int32Array,
  n: number,
  extrapolated: Float64Array,
): Float64Array {
  const T = data.times.length;
  const W = data.trainPoints;
  const out = new Float64Array(data.count * T * 2).fill(Number.NaN);
  for (let r = 0; r < data.count; r++) {
    for (let j = 0; j < W; j++) {
      // Piecewise-linear through the observations (held constant before the first one).
      let k = 0;
      while (k + 1 < n && obs[r * n + k + 1] <= j) k++;
      const j0 = obs[r * n + k];
      const j1 = k + 1 < n ? obs[r * n + k + 1] : j0;
      const w = j1 > j0 && j >= j0 ? (j - j0) / (j1 - j0) : 0;
      for (let d = 0; d < 2; d++) {
        const a = values[(r * n + k) * 2 + d];
        const b = values[(r * n + Math.min(k + 1, n - 1)) * 2 + d];
        out[(r * T + j) * 2 + d] = a + w * (b - a);
      }
    }
    for (let j = W; j < T; j++) {
      for (let d = 0; d < 2; d++) out[(r * T + j) * 2 + d] = extrapolated[(r * (T - W) + j - W) * 2 + d];
    }
  }
  return out;
}
