/**
 * `neuralode train latent-ode --data series.csv`: a latent ODE on the user's own irregularly sampled series.
 * Each variable is standardised over its observed values; each series' times are taken relative to its first
 * observation and scaled so the longest series spans 2 time units (the scale the default RK4 step suits).
 * After training, the posterior-mean trajectory of every series is extrapolated over the `--forecast`
 * horizon and written, in the file's own units, to forecasts.csv in the run directory.
 */
import fs from 'node:fs';
import type { ExperimentContext } from '../../cli/experiments.js';
import { type CsvSeries, formatSeriesCsv, parseSeriesCsv, SeriesCsvError } from '../../data/csv.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { LatentOde } from '../../models/latent-ode.js';
import { batchFromSeries, encoderInputScale } from '../../models/latent-ode-batch.js';
import { RunError } from '../../run/errors.js';
import { lossFigure } from './figures.js';
import {
  consistencyWeightAt,
  type LatentOdeExperimentConfig,
  latentOdeOptions,
  latentOdeStepper,
  lossMetrics,
  saveModel,
  TrainingState,
} from './index.js';

export async function runCsvLatentOde(config: LatentOdeExperimentConfig, ctx: ExperimentContext) {
  if (config.model !== 'latent-ode') {
    throw new RunError(
      'invalidArgument',
      `--data: only --model latent-ode is supported with your own data, got --model ${config.model}`,
    );
  }
  let text: string;
  try {
    text = fs.readFileSync(config.data, 'utf8');
  } catch (e) {
    throw new RunError(
      'invalidArgument',
      `--data ${config.data}: cannot read the file (${(e as Error).message})`,
    );
  }
  let parsed: ReturnType<typeof parseSeriesCsv>;
  try {
    parsed = parseSeriesCsv(text);
  } catch (e) {
    if (e instanceof SeriesCsvError)
      throw new RunError('invalidArgument', `--data ${config.data}: ${e.message}`);
    throw e;
  }
  const { variables, series } = parsed;
  const D = variables.length;
  // Standardise each variable over its observed values.
  const mean = new Float64Array(D);
  const std = new Float64Array(D);
  const seen = new Float64Array(D);
  for (const s of series) {
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i];
      if (Number.isNaN(v)) continue;
      mean[i % D] += v;
      seen[i % D]++;
    }
  }
  for (let d = 0; d < D; d++) {
    if (seen[d] === 0)
      throw new RunError(
        'invalidArgument',
        `--data ${config.data}: variable '${variables[d]}' has no observed value`,
      );
    mean[d] /= seen[d];
  }
  for (const s of series) {
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i];
      if (!Number.isNaN(v)) std[i % D] += (v - mean[i % D]) ** 2;
    }
  }
  for (let d = 0; d < D; d++) std[d] = seen[d] > 1 && std[d] > 0 ? Math.sqrt(std[d] / (seen[d] - 1)) : 1;
  let maxSpan = 0;
  for (const s of series) maxSpan = Math.max(maxSpan, s.times[s.times.length - 1] - s.times[0]);
  const timeScale = maxSpan > 0 ? 2 / maxSpan : 1;
  const scaled = series.map((s) => ({
    times: Float64Array.from(s.times, (t) => (t - s.times[0]) * timeScale),
    values: Float64Array.from(s.values, (v, i) => (v - mean[i % D]) / std[i % D]),
  }));
  const rng = ctx.rng;
  const modelOptions = latentOdeOptions(config, D, encoderInputScale(batchFromSeries(scaled, D)));
  const model = new LatentOde(modelOptions, rng);
  const stepper = await latentOdeStepper(modelOptions, config.threads);
  const training = new TrainingState(config, model.parameters);
  training.resume(ctx);
  const batchSize = Math.min(config.batchSize, series.length);
  const losses: number[] = [];
  let computeMs = 0;
  let computed = 0;
  const result = await ctx.train({
    step(iter) {
      const rows =
        batchSize >= series.length
          ? scaled
          : Array.from(rng.permutation(series.length).subarray(0, batchSize), (i) => scaled[i]);
      const started = performance.now();
      const l = stepper.step(model, batchFromSeries(rows, D), rng, consistencyWeightAt(config, iter));
      training.step(model.gradients, iter);
      computeMs += performance.now() - started;
      computed++;
      losses.push(l.loss);
      return lossMetrics(l, config);
    },
    saveCheckpoint: (completed) => training.save(ctx, completed),
  });
  stepper.close();
  training.finish();
  // The model, with what turns the file's units into its own: (value − data_mean)/data_std, and time since a
  // series' first observation times time_scale.
  saveModel(ctx, 'latent-ode', model.parameters, 'latent-ode', modelOptions, {
    variables: JSON.stringify(variables),
    data_mean: JSON.stringify(Array.from(mean)),
    data_std: JSON.stringify(Array.from(std)),
    time_scale: String(timeScale),
  });
  // Reconstruction error on the observed values, in the file's units.
  const all = batchFromSeries(scaled, D);
  // Each series' initial state: the encoder's mean, moved by --refine to the most probable state.
  const z0 =
    config.refine > 0
      ? model.refineInitialStates(all, { iterations: config.refine }).z0
      : model.encodeMean(all);
  const fitted = model.decode(z0, all.grid);
  let sq = 0;
  let count = 0;
  scaled.forEach((s, r) => {
    for (let k = 0; k < s.times.length; k++) {
      const g = all.index[r * all.slots + k];
      for (let d = 0; d < D; d++) {
        const v = series[r].values[k * D + d];
        if (Number.isNaN(v)) continue;
        const e = fitted[(r * all.grid.length + g) * D + d] * std[d] + mean[d] - v;
        sq += e * e;
        count++;
      }
    }
  });
  // Forecasts: every series on the union of all forecast times, each reading its own.
  const horizon = config.forecast > 0 ? config.forecast : 0.25 * (maxSpan > 0 ? maxSpan : 1);
  const K = config.forecastPoints;
  const futureTimes = scaled.map((s) =>
    Float64Array.from(
      { length: K },
      (_, k) => s.times[s.times.length - 1] + (horizon * timeScale * (k + 1)) / K,
    ),
  );
  const grid = Float64Array.from(new Set([0, ...futureTimes.flatMap((f) => Array.from(f))])).sort();
  const position = new Map<number, number>();
  for (let i = 0; i < grid.length; i++) position.set(grid[i], i);
  const predicted = model.decode(z0, grid);
  const forecasts: CsvSeries[] = series.map((s, r) => {
    const values = new Float64Array(K * D);
    for (let k = 0; k < K; k++) {
      const g = position.get(futureTimes[r][k]) as number;
      for (let d = 0; d < D; d++)
        values[k * D + d] = predicted[(r * grid.length + g) * D + d] * std[d] + mean[d];
    }
    return { id: s.id, times: Float64Array.from(futureTimes[r], (t) => s.times[0] + t / timeScale), values };
  });
  const file = ctx.runDir.file('forecasts.csv');
  writeFileAtomic(file, formatSeriesCsv(variables, forecasts));
  ctx.recordOutput('forecasts', file);
  if (!config.skipFigures && losses.length > 1)
    ctx.saveFigure(lossFigure(losses, 'latent ODE training loss'), 'loss');
  return {
    experiment: 'latent-ode',
    data: config.data,
    series: series.length,
    variables,
    iters: config.iters,
    batch_size: batchSize,
    ms_per_iter: computed > 0 ? computeMs / computed : 0,
    reconstruction_rmse: count > 0 ? Math.sqrt(sq / count) : 0,
    forecast_horizon: horizon,
    final_loss: losses.length > 0 ? losses[losses.length - 1] : null,
    train_seconds: result.elapsedSeconds,
  };
}
