/**
 * Scores the saved models of a `neuralode train latent-ode` run on spirals none of them has seen.
 *
 * The experiment's test set has 100 spirals, and its RMSE varies by a few hundredths from one such set to
 * the next for the same model, as much as seeds or observation counts differ. This draws `count` fresh
 * spirals from their own seed (the run's noise and centre, read from its config.json when there is one),
 * observes each at n random times of its window (n from the model file's name, `<model>-obs<n>`), and
 * reports every model's extrapolation RMSE over all of them, with the lowest and highest RMSE over blocks
 * of 100 (what test sets of the experiment's size would have given). Latent ODEs are scored decoded from
 * the encoder's mean and from refined initial states.
 *
 * Run: npx tsx examples/evaluate-latent-ode.ts runs/<run>/models [--count 1000] [--seed 424242] [--refine 10]
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { makeSpirals, type SpiralDataset, sampleObservationIndices } from '../src/data/spirals.js';
import { extrapolationRmse, spiralEvaluationBatch } from '../src/experiments/latent-ode/batches.js';
import { loadSafetensors } from '../src/io/safetensors.js';
import { LatentOde } from '../src/models/latent-ode.js';
import { RnnBaseline } from '../src/models/rnn-baseline.js';
import { Rng } from '../src/random/index.js';

export interface EvaluationOptions {
  /** Fresh spirals (default 1000). */
  readonly count?: number;
  /** Seed of the fresh spirals and their observation times (default 424242). */
  readonly seed?: number;
  /** Levenberg–Marquardt iterations for the refined score of a latent ODE (default 10). */
  readonly refine?: number;
  /** Spiral noise and centre (default: the run's config.json next to the models directory, else 0.3 and 0). */
  readonly noise?: number;
  readonly centre?: number;
}

/** An RMSE over all fresh spirals, with the range over blocks of 100 of them. */
export interface Score {
  readonly rmse: number;
  readonly blocks: readonly [number, number];
}

export interface ModelScore {
  readonly file: string;
  readonly model: 'latent-ode' | 'rnn';
  readonly observations: number;
  /** Latent ODE: decoded from the encoder's mean; RNN: its extrapolation. */
  readonly score: Score;
  /** Latent ODE only: decoded from refined initial states. */
  readonly refined?: Score;
}

const MODEL_FILE = /^(latent-ode|rnn)-obs(\d+)\.safetensors$/;

/** Scores every `<model>-obs<n>.safetensors` file in `modelsDir`. */
export function evaluateLatentOdeModels(modelsDir: string, options: EvaluationOptions = {}): ModelScore[] {
  if (!fs.existsSync(modelsDir) || !fs.statSync(modelsDir).isDirectory()) {
    throw new Error(`evaluateLatentOdeModels: ${modelsDir} is not a directory`);
  }
  const files = fs
    .readdirSync(modelsDir)
    .filter((f) => MODEL_FILE.test(f))
    .sort();
  if (files.length === 0) {
    throw new Error(
      `evaluateLatentOdeModels: ${modelsDir} holds no <latent-ode|rnn>-obs<n>.safetensors model files`,
    );
  }
  const count = options.count ?? 1000;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`evaluateLatentOdeModels: count must be a positive integer, got ${count}`);
  }
  const seed = options.seed ?? 424242;
  const refine = options.refine ?? 10;
  const runConfig = readRunConfig(modelsDir);
  const spiralOptions = {
    count,
    noiseStd: options.noise ?? runConfig.noise ?? 0.3,
    centre: options.centre ?? runConfig.centre ?? 0,
  };
  // The same spirals for every model; the observation times depend on n only.
  const observed = new Map<number, { data: SpiralDataset; obs: Int32Array }>();
  const fresh = (n: number) => {
    let entry = observed.get(n);
    if (entry === undefined) {
      const rng = new Rng(seed);
      const data = makeSpirals(rng, spiralOptions);
      entry = { data, obs: sampleObservationIndices(rng, data.count, data.trainPoints, n) };
      observed.set(n, entry);
    }
    return entry;
  };
  return files.map((name) => {
    const [, kind, nText] = MODEL_FILE.exec(name)!;
    const n = Number(nText);
    const file = path.join(modelsDir, name);
    const saved = loadSafetensors(file);
    const theta = saved.tensors.get('theta')?.data;
    if (!(theta instanceof Float64Array) || saved.metadata.options === undefined) {
      throw new Error(`evaluateLatentOdeModels: ${file} has no F64 tensor 'theta' and 'options' metadata`);
    }
    const { data, obs } = fresh(n);
    const batch = spiralEvaluationBatch(data, obs, n);
    const T = data.times.length;
    if (kind === 'latent-ode') {
      const model = new LatentOde(JSON.parse(saved.metadata.options), new Rng(0));
      model.parameters.set(theta);
      const score = scoreOf(data, model.predict(batch, data.times), T, 0);
      const refined = scoreOf(data, model.predict(batch, data.times, { refine }), T, 0);
      return { file, model: 'latent-ode', observations: n, score, refined };
    }
    const model = new RnnBaseline(JSON.parse(saved.metadata.options), new Rng(0));
    model.parameters.set(theta);
    const future = data.times.subarray(data.trainPoints);
    const score = scoreOf(data, model.extrapolate(batch, future), future.length, data.trainPoints);
    return { file, model: 'rnn', observations: n, score };
  });
}

function readRunConfig(modelsDir: string): { noise?: number; centre?: number } {
  const file = path.join(modelsDir, '..', 'config.json');
  if (!fs.existsSync(file)) return {};
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as { noise?: number; centre?: number };
  return { noise: config.noise, centre: config.centre };
}

function scoreOf(data: SpiralDataset, predicted: Float64Array, length: number, start: number): Score {
  const rmse = extrapolationRmse(data, predicted, length, start);
  let lo = Infinity;
  let hi = -Infinity;
  const block = new Uint8Array(data.count);
  for (let b = 0; b + 100 <= data.count; b += 100) {
    block.fill(0);
    block.fill(1, b, b + 100);
    const e = extrapolationRmse(data, predicted, length, start, block);
    lo = Math.min(lo, e);
    hi = Math.max(hi, e);
  }
  return { rmse, blocks: [lo, hi] };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      count: { type: 'string' },
      seed: { type: 'string' },
      refine: { type: 'string' },
    },
  });
  if (positionals.length !== 1) {
    console.error(
      'usage: npx tsx examples/evaluate-latent-ode.ts <run>/models [--count n] [--seed s] [--refine k]',
    );
    process.exit(2);
  }
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const scores = evaluateLatentOdeModels(positionals[0], {
    count: num(values.count),
    seed: num(values.seed),
    refine: num(values.refine),
  });
  const show = (s: Score) =>
    `${s.rmse.toFixed(4)} (blocks of 100: ${s.blocks[0].toFixed(3)}–${s.blocks[1].toFixed(3)})`;
  for (const s of scores) {
    const refined = s.refined === undefined ? '' : `   refined: ${show(s.refined)}`;
    console.log(`${path.basename(s.file)}: ${show(s.score)}${refined}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
