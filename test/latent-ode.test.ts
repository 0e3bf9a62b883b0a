import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateLatentOdeModels } from '../examples/evaluate-latent-ode.js';
import { ExperimentRegistry } from '../src/cli/experiments.js';
import { runCli } from '../src/cli/program.js';
import { makeSpirals, sampleObservationIndices } from '../src/data/spirals.js';
import {
  coveredByTraining,
  extrapolationRmse,
  spiralEvaluationBatch,
  spiralTrainingBatch,
} from '../src/experiments/latent-ode/batches.js';
import {
  type LatentOdeExperimentConfig,
  latentOdeExperiment,
  TrainingState,
} from '../src/experiments/latent-ode/index.js';
import { decodeSafetensors, loadSafetensors } from '../src/io/safetensors.js';
import { LatentOde } from '../src/models/latent-ode.js';
import { batchFromSeries, encoderInputScale, sliceRows } from '../src/models/latent-ode-batch.js';
import { LatentOdePool } from '../src/models/latent-ode-pool.js';
import { RnnBaseline } from '../src/models/rnn-baseline.js';
import { Adam } from '../src/optim/adam.js';
import type { ParameterAverage } from '../src/optim/average.js';
import { Rng } from '../src/random/index.js';
import { loadCheckpoint } from '../src/run/checkpoint.js';

/** Largest relative difference between an analytic gradient and central differences of `loss`. */
function gradientError(parameters: Float64Array, gradients: Float64Array, loss: () => number): number {
  loss();
  const analytic = gradients.slice();
  let worst = 0;
  for (let i = 0; i < parameters.length; i++) {
    const v = parameters[i];
    const h = 1e-6;
    parameters[i] = v + h;
    const up = loss();
    parameters[i] = v - h;
    const down = loss();
    parameters[i] = v;
    const fd = (up - down) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - analytic[i]) / (1e-4 + Math.abs(fd)));
  }
  return worst;
}

/** A training batch of all `count` spirals of a small data set (windows of `window`, n observations each). */
function allSpiralsBatch(rng: Rng, count: number, window: number, n: number) {
  const data = makeSpirals(rng, { count, trainPoints: window, extrapolatePoints: 10, totalPoints: 200 });
  const obs = sampleObservationIndices(rng, data.count, data.trainPoints, n);
  return spiralTrainingBatch(
    data,
    obs,
    n,
    Int32Array.from({ length: data.count }, (_, i) => i),
  );
}

const SMALL_SERIES = [
  { times: [0.1, 0.3, 0.35], values: [1, 0.5, Number.NaN, 0.2, 0.3, -0.1] },
  { times: [0.2, 0.5], values: [0.4, 0.1, 0.2, 0.2] },
];

/** Rows of 6 and 5 observations (the consistency term needs at least 4), one value missing. */
const CONSISTENCY_SERIES = [
  {
    times: [0.1, 0.2, 0.35, 0.5, 0.6, 0.8],
    values: [1, 0.5, Number.NaN, 0.2, 0.3, -0.1, 0.2, 0, 0.1, 0.3, -0.2, 0.4],
  },
  { times: [0.05, 0.3, 0.45, 0.7, 0.75], values: [0.4, 0.1, 0.2, 0.2, -0.3, 0.5, 0, 0.1, 0.6, -0.2] },
];

describe('spiral data', () => {
  const data = makeSpirals(new Rng(3), { count: 40 });
  const T = data.times.length;

  it('has the documented shapes and equally spaced times from 0', () => {
    expect(T).toBe(200);
    expect(data.clean.length).toBe(40 * T * 2);
    expect(data.noisy.length).toBe(40 * T * 2);
    expect(data.times[0]).toBe(0);
    const dt = (6 * Math.PI) / 999;
    for (let j = 1; j < T; j++) expect(data.times[j] - data.times[j - 1]).toBeCloseTo(dt, 12);
  });

  it('is half clockwise (moving inwards) and half counter-clockwise (moving outwards), each from its own start', () => {
    let cw = 0;
    const starts = new Set<string>();
    for (let r = 0; r < 40; r++) {
      const o = r * T * 2;
      starts.add(`${data.clean[o].toFixed(6)},${data.clean[o + 1].toFixed(6)}`);
      let turn = 0;
      for (let j = 0; j + 1 < T; j++) {
        const a = o + j * 2;
        turn += data.clean[a] * data.clean[a + 3] - data.clean[a + 1] * data.clean[a + 2];
      }
      const r0 = Math.hypot(data.clean[o], data.clean[o + 1]);
      const r1 = Math.hypot(data.clean[o + (T - 1) * 2], data.clean[o + (T - 1) * 2 + 1]);
      if (data.clockwise[r] === 1) {
        cw++;
        expect(turn).toBeLessThan(0);
        expect(r1).toBeLessThan(r0);
      } else {
        expect(turn).toBeGreaterThan(0);
        expect(r1).toBeGreaterThan(r0);
      }
      // Archimedean: r = 0.3·θ, and θ advances by one radian per time unit.
      expect(Math.abs(r1 - r0)).toBeCloseTo(0.3 * data.times[T - 1], 9);
    }
    expect(cw).toBe(20);
    expect(starts.size).toBeGreaterThan(30);
  });

  it('adds Gaussian noise of the requested std (default 0.3)', () => {
    let sq = 0;
    for (let i = 0; i < data.clean.length; i++) sq += (data.noisy[i] - data.clean[i]) ** 2;
    expect(Math.sqrt(sq / data.clean.length)).toBeGreaterThan(0.29);
    expect(Math.sqrt(sq / data.clean.length)).toBeLessThan(0.31);
    const quiet = makeSpirals(new Rng(3), { count: 40, noiseStd: 0.1 });
    sq = 0;
    for (let i = 0; i < quiet.clean.length; i++) sq += (quiet.noisy[i] - quiet.clean[i]) ** 2;
    expect(Math.sqrt(sq / quiet.clean.length)).toBeGreaterThan(0.095);
    expect(Math.sqrt(sq / quiet.clean.length)).toBeLessThan(0.105);
  });

  it('--centre moves the counter-clockwise family to (c, 0) and the clockwise one to (−c, 0)', () => {
    const moved = makeSpirals(new Rng(3), { count: 40, centre: 5 });
    for (let r = 0; r < 40; r++) {
      const shift = moved.clockwise[r] === 1 ? -5 : 5;
      for (let j = 0; j < T; j += 17) {
        const o = (r * T + j) * 2;
        expect(moved.clean[o] - data.clean[o]).toBeCloseTo(shift, 12);
        expect(moved.clean[o + 1]).toBe(data.clean[o + 1]);
      }
    }
    expect(() => makeSpirals(new Rng(3), { count: 2, centre: Number.NaN })).toThrow(/centre must be finite/);
  });

  it('draws irregular observation subsets: sorted, distinct, inside the observed window, different per row', () => {
    const n = 30;
    const obs = sampleObservationIndices(new Rng(5), 40, data.trainPoints, n);
    const patterns = new Set<string>();
    for (let r = 0; r < 40; r++) {
      const row = Array.from(obs.subarray(r * n, (r + 1) * n));
      for (let k = 1; k < n; k++) expect(row[k]).toBeGreaterThan(row[k - 1]);
      expect(row[0]).toBeGreaterThanOrEqual(0);
      expect(row[n - 1]).toBeLessThan(data.trainPoints);
      patterns.add(row.join(','));
    }
    expect(patterns.size).toBe(40);
    expect(() => sampleObservationIndices(new Rng(5), 2, 100, 101)).toThrow(
      /n must be an integer in \[1, 100\]/,
    );
  });

  it('builds training batches on the sorted union of the batch observation times', () => {
    const n = 10;
    const obs = sampleObservationIndices(new Rng(6), 40, data.trainPoints, n);
    const batch = spiralTrainingBatch(data, obs, n, [3, 7]);
    for (let g = 1; g < batch.grid.length; g++) expect(batch.grid[g]).toBeGreaterThan(batch.grid[g - 1]);
    expect(batch.grid[0]).toBe(0);
    for (let b = 0; b < 2; b++) {
      const r = [3, 7][b];
      for (let k = 0; k < n; k++) {
        expect(batch.grid[batch.index[b * n + k]]).toBe(data.times[obs[r * n + k]]);
        expect(batch.values[(b * n + k) * 2]).toBe(data.noisy[(r * 200 + obs[r * n + k]) * 2]);
      }
    }
    expect(batch.grid[batch.windowEnd[0]]).toBe(data.times[data.trainPoints - 1]);
    // Refilling the arrays of an earlier batch gives the same batch as fresh arrays, in those arrays.
    const fresh = spiralTrainingBatch(data, obs, n, [1, 5]);
    const refilled = spiralTrainingBatch(data, obs, n, [1, 5], undefined, batch);
    expect(refilled.values).toBe(batch.values);
    expect(refilled).toEqual(fresh);
  });

  it('marks the test spirals whose held-out samples stay within the angles training windows reach', () => {
    const rng = new Rng(12);
    const train = makeSpirals(rng, { count: 40 });
    const test = makeSpirals(rng, { count: 60 });
    const covered = coveredByTraining(train, test);
    const reach = (d: typeof train, i: number, samples: number) =>
      d.clockwise[i] ? [d.start[i] - samples + 1, d.start[i]] : [d.start[i], d.start[i] + samples - 1];
    for (let i = 0; i < test.count; i++) {
      const [a0, b0] = reach(test, i, 200);
      // Held-out samples 100–199: the far half of the 200 in the direction of travel.
      const [a, b] = test.clockwise[i] ? [a0, a0 + 99] : [b0 - 99, b0];
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < train.count; j++) {
        if (train.clockwise[j] !== test.clockwise[i]) continue;
        const [c, d] = reach(train, j, 100);
        lo = Math.min(lo, c);
        hi = Math.max(hi, d);
      }
      expect(covered[i]).toBe(a >= lo && b <= hi ? 1 : 0);
    }
    expect(covered.includes(0) && covered.includes(1)).toBe(true);
    // The clean curve of each spiral is where its start index says.
    for (const i of [0, 1]) {
      const theta = (test.start[i] * 6 * Math.PI) / 999;
      expect(test.clean[i * 400]).toBeCloseTo(0.3 * theta * Math.cos(theta), 10);
    }
  });

  it('with starts, a row keeps its later observations with times measured from the first one kept', () => {
    const n = 10;
    const obs = sampleObservationIndices(new Rng(6), 40, data.trainPoints, n);
    const batch = spiralTrainingBatch(data, obs, n, [3, 7], [4, 0]);
    const shift = data.times[obs[3 * n + 4]];
    for (let k = 0; k < n; k++) {
      if (k < n - 4) {
        expect(batch.grid[batch.index[k]]).toBeCloseTo(data.times[obs[3 * n + 4 + k]] - shift, 12);
        expect(batch.values[k * 2 + 1]).toBe(data.noisy[(3 * 200 + obs[3 * n + 4 + k]) * 2 + 1]);
      } else {
        expect(batch.index[k]).toBe(-1);
      }
      expect(batch.grid[batch.index[n + k]]).toBe(data.times[obs[7 * n + k]]);
    }
    expect(batch.grid[batch.index[0]]).toBe(0);
    // The Poisson window of the shortened row ends where its trajectory's window ends.
    expect(batch.grid[batch.windowEnd[0]]).toBeCloseTo(data.times[data.trainPoints - 1] - shift, 12);
    expect(batch.grid[batch.windowEnd[1]]).toBe(data.times[data.trainPoints - 1]);
    expect(() => spiralTrainingBatch(data, obs, n, [3], [n])).toThrow(/starts\[0\]/);
  });
});

describe('LatentOde and RnnBaseline', () => {
  const batch = batchFromSeries(SMALL_SERIES, 2, [0.7]);

  for (const poisson of [false, true]) {
    it(`negative-ELBO gradient matches finite differences (poisson ${poisson}, missing values, ragged rows)`, () => {
      const model = new LatentOde(
        { obsDim: 2, latentDim: 3, rnnHidden: 5, odeHidden: 4, decoderHidden: 4, poisson, maxStep: 0.07 },
        new Rng(2),
      );
      expect(
        gradientError(model.parameters, model.gradients, () => model.lossAndGradient(batch, new Rng(7)).loss),
      ).toBeLessThan(1e-4);
    });
  }

  it('with a GRU encoder the gradient matches finite differences, with the consistency term and ragged rows', () => {
    // The consistency rows and a row too short for the term.
    const series = [...CONSISTENCY_SERIES, { times: [0.4, 0.9], values: [0.3, 0.3, -0.5, 0.1] }];
    const b = batchFromSeries(series, 2);
    const options = { obsDim: 2, latentDim: 3, rnnHidden: 5, odeHidden: 4, decoderHidden: 4, maxStep: 0.1 };
    const gru = new LatentOde({ ...options, encoder: 'gru', consistency: 5 }, new Rng(3));
    const rnn = new LatentOde({ ...options, consistency: 5 }, new Rng(3));
    expect(gru.encoderKind).toBe('gru');
    expect(rnn.encoderKind).toBe('rnn');
    // Gates and candidate: three times the Elman cell's weights and biases.
    expect(gru.parameters.length - rnn.parameters.length).toBe(2 * (5 * 3 + 5 + 5 * 5));
    const l = gru.lossAndGradient(b, new Rng(7));
    expect(l.consistency).toBeGreaterThan(0);
    expect(l.loss).not.toBeCloseTo(rnn.lossAndGradient(b, new Rng(7)).loss, 3);
    expect(
      gradientError(gru.parameters, gru.gradients, () => gru.lossAndGradient(b, new Rng(7)).loss),
    ).toBeLessThan(1e-4);
    // The evaluation path (encoder mean, refinement) runs the same cell as training.
    const z0 = gru.encodeMean(b);
    expect(z0.every(Number.isFinite)).toBe(true);
    expect(() => new LatentOde({ obsDim: 2, encoder: 'lstm' as 'gru' }, new Rng(0))).toThrow(
      /encoder must be 'rnn' or 'gru', got 'lstm'/,
    );
  });

  it('with the consistency term the gradient still matches finite differences, and the term is reported', () => {
    const b = batchFromSeries(CONSISTENCY_SERIES, 2);
    const options = { obsDim: 2, latentDim: 3, rnnHidden: 5, odeHidden: 4, decoderHidden: 4, maxStep: 0.1 };
    const model = new LatentOde({ ...options, consistency: 5 }, new Rng(3));
    const plain = new LatentOde(options, new Rng(3));
    const withTerm = model.lossAndGradient(b, new Rng(7));
    const without = plain.lossAndGradient(b, new Rng(7));
    expect(withTerm.consistency).toBeGreaterThan(0);
    expect(without.consistency).toBe(0);
    // Same noise for z(t0), so the ELBO parts agree and the loss differs by exactly the term.
    expect(withTerm.kl).toBe(without.kl);
    expect(withTerm.loss - without.loss).toBeCloseTo(withTerm.consistency, 10);
    expect(
      gradientError(model.parameters, model.gradients, () => model.lossAndGradient(b, new Rng(7)).loss),
    ).toBeLessThan(1e-4);
    expect(() => new LatentOde({ obsDim: 2, consistency: -1 }, new Rng(0))).toThrow(/consistency/);
    // A per-call weight scales the term (the z(t0) noise and the splits are drawn the same way) and 0 leaves
    // the plain ELBO; weights above the option are refused.
    const half = model.lossAndGradient(b, new Rng(7), 2.5);
    expect(half.consistency).toBeCloseTo(withTerm.consistency / 2, 12);
    const off = model.lossAndGradient(b, new Rng(7), 0);
    expect(off.consistency).toBe(0);
    expect(off.loss).toBeCloseTo(without.loss, 12);
    expect(() => model.lossAndGradient(b, new Rng(7), 6)).toThrow(/consistencyWeight must be in \[0, 5\]/);
  });

  it('consistencyMinLater lowers the split range so the later part keeps that many observations', () => {
    // Rows of 20 observations: with at least 12 later, the range [0.1, 0.9] becomes [0.1, 0.4].
    const series = [0, 1, 2].map((r) => ({
      times: Array.from({ length: 20 }, (_, k) => 0.05 * (k + 1) + 0.01 * r),
      values: Array.from({ length: 40 }, (_, i) => Math.sin(0.3 * i + r)),
    }));
    const b = batchFromSeries(series, 2);
    const make = (consistencySplits: [number, number], consistencyMinLater: number) =>
      new LatentOde({ obsDim: 2, consistency: 5, consistencySplits, consistencyMinLater }, new Rng(4));
    const clamped = make([0.1, 0.9], 12);
    const narrow = make([0.1, 0.4], 1);
    const wide = make([0.1, 0.9], 1);
    expect(make([0.1, 0.9], 12).consistencyMinLater).toBe(12);
    for (const u of [0, 0.5, 0.999]) {
      const noise = clamped.drawNoise(3, new Rng(9));
      noise.splits.fill(u);
      const c = clamped.lossAndGradientWith(b, noise, 3).consistency;
      expect(narrow.lossAndGradientWith(b, noise, 3).consistency).toBe(c);
      if (u > 0) expect(wide.lossAndGradientWith(b, noise, 3).consistency).not.toBe(c);
    }
    expect(() => make([0.1, 0.9], 0)).toThrow(/consistencyMinLater must be an integer >= 1, got 0/);
  });

  it('with linear skips in the decoder and the dynamics the gradient matches finite differences, and zero skips change nothing', () => {
    const options = { obsDim: 2, latentDim: 3, rnnHidden: 5, odeHidden: 4, decoderHidden: 4, maxStep: 0.07 };
    for (const poisson of [false, true]) {
      const model = new LatentOde({ ...options, poisson, decoderSkip: true, dynamicsSkip: true }, new Rng(2));
      expect(
        gradientError(model.parameters, model.gradients, () => model.lossAndGradient(batch, new Rng(7)).loss),
      ).toBeLessThan(1e-4);
    }
    // The skip's weights come last in θ: with them zero the model is the one without the skip.
    const plain = new LatentOde(options, new Rng(2));
    const skip = new LatentOde({ ...options, decoderSkip: true, dynamicsSkip: true }, new Rng(2));
    expect(skip.parameters.length).toBe(plain.parameters.length + (3 * 2 + 2) + (3 * 3 + 3));
    skip.parameters.fill(0, plain.parameters.length);
    expect(skip.parameters.subarray(0, plain.parameters.length)).toEqual(plain.parameters);
    expect(skip.lossAndGradient(batch, new Rng(7)).loss).toBe(plain.lossAndGradient(batch, new Rng(7)).loss);
    expect(skip.predict(batch, batch.grid)).toEqual(plain.predict(batch, batch.grid));
    // Either skip alone changes the prediction.
    for (const at of [plain.parameters.length, plain.parameters.length + 8]) {
      skip.parameters.fill(0, plain.parameters.length);
      skip.parameters[at] = 1;
      expect(skip.predict(batch, batch.grid)).not.toEqual(plain.predict(batch, batch.grid));
    }
  });

  describe('positively homogeneous dynamics', () => {
    const options = {
      obsDim: 2,
      latentDim: 3,
      rnnHidden: 5,
      odeHidden: 4,
      decoderHidden: 4,
      maxStep: 0.07,
      decoderSkip: true,
      dynamicsSkip: true,
    };
    const variants = [
      // Bias-free ReLU MLP and skip: two hidden layers of 4, the output layer of 3 and the skip lose biases.
      {
        name: 'bias-free ReLU',
        extra: { activation: 'relu' as const, dynamicsBias: false },
        fewer: 4 + 4 + 3 + 3,
      },
      // ‖z‖·MLP(z/‖z‖) + A·z: only the skip loses its bias.
      { name: '‖z‖·MLP(z/‖z‖)', extra: { homogeneousDynamics: true }, fewer: 3 },
    ];
    for (const { name, extra, fewer } of variants) {
      it(`${name}: the gradient matches finite differences and the flow from c·z0 is c times the flow from z0`, () => {
        const model = new LatentOde({ ...options, ...extra }, new Rng(2));
        const biased = new LatentOde({ ...options, activation: extra.activation }, new Rng(2));
        expect(biased.parameters.length - model.parameters.length).toBe(fewer);
        for (const poisson of [false, true]) {
          const m = new LatentOde({ ...options, ...extra, poisson }, new Rng(2));
          expect(
            gradientError(m.parameters, m.gradients, () => m.lossAndGradient(batch, new Rng(7)).loss),
          ).toBeLessThan(1e-4);
        }
        // A linear decoder x = S·z (its MLP's output layer and the skip's bias zero; the decoder's layers come
        // just before the skips, which are last in θ) shows the flow itself: RK4 steps and dense output
        // included, it scales with the initial state, and with biases it does not.
        const grid = Float64Array.from({ length: 9 }, (_, i) => 0.1 * i);
        const z0 = Float64Array.from([0.8, -0.3, 0.5, -1.1, 0.4, 0.9]);
        const scaled = z0.map((v) => 2.5 * v);
        const worst = (m: LatentOde, skip: number) => {
          const end = m.parameters.length - skip;
          m.parameters.fill(0, end - 8 - 10, end - 8);
          m.parameters.fill(0, end - 2, end);
          const a = m.decode(z0, grid);
          const b = m.decode(scaled, grid);
          let w = 0;
          for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(b[i] - 2.5 * a[i]));
          return w;
        };
        expect(worst(model, 9)).toBeLessThan(1e-12);
        expect(worst(biased, 12)).toBeGreaterThan(1e-3);
      });
    }
  });

  it('with an encoder prefix the encoder reads only the first observations, the likelihood all of them', () => {
    const series = [
      {
        times: [0.1, 0.2, 0.35, 0.5, 0.6, 0.8],
        values: [1, 0.5, 0.4, 0.2, 0.3, -0.1, 0.2, 0, 0.1, 0.3, -0.2, 0.4],
      },
      { times: [0.05, 0.3, 0.45, 0.7], values: [0.4, 0.1, 0.2, 0.2, -0.3, 0.5, 0, 0.1] },
    ];
    const options = { obsDim: 2, latentDim: 3, rnnHidden: 5, odeHidden: 4, decoderHidden: 4, maxStep: 0.1 };
    // A fraction of exactly one half: the encoder reads observations 0-2 of row 0 and 0-1 of row 1.
    const model = new LatentOde({ ...options, encoderPrefix: [0.5, 0.5] }, new Rng(3));
    const full = new LatentOde(options, new Rng(3));
    const b = batchFromSeries(series, 2);
    // The last observation of each row changed: outside the prefix it reaches the loss only through the
    // likelihood, so the KL (a function of the encoder's output alone) stays; without a prefix it moves.
    const changed = batchFromSeries(
      series.map((s) => ({ times: s.times, values: [...s.values.slice(0, -2), 3, -3] })),
      2,
    );
    const a = model.lossAndGradient(b, new Rng(7));
    const c = model.lossAndGradient(changed, new Rng(7));
    expect(c.kl).toBe(a.kl);
    expect(c.logLikelihood).not.toBeCloseTo(a.logLikelihood, 3);
    expect(full.lossAndGradient(changed, new Rng(7)).kl).not.toBeCloseTo(
      full.lossAndGradient(b, new Rng(7)).kl,
      6,
    );
    // The third observation of row 0 is inside the prefix: changing it moves the encoder's output.
    const inside = batchFromSeries(
      [{ times: series[0].times, values: series[0].values.map((v, i) => (i === 4 ? 2 : v)) }, series[1]],
      2,
    );
    expect(model.lossAndGradient(inside, new Rng(7)).kl).not.toBeCloseTo(a.kl, 6);
    // The whole range draws a prefix per row; the gradient is exact for any draw.
    const drawn = new LatentOde({ ...options, encoderPrefix: [0.2, 0.9], consistency: 3 }, new Rng(5));
    expect(drawn.drawNoise(2, new Rng(1)).prefixes.length).toBe(2);
    expect(full.drawNoise(2, new Rng(1)).prefixes.length).toBe(0);
    expect(
      gradientError(drawn.parameters, drawn.gradients, () => drawn.lossAndGradient(b, new Rng(9)).loss),
    ).toBeLessThan(1e-4);
    for (const bad of [
      [0, 1],
      [0.6, 0.5],
      [0.5, 1.2],
    ] as const) {
      expect(() => new LatentOde({ obsDim: 2, encoderPrefix: bad }, new Rng(0))).toThrow(/encoderPrefix/);
    }
  });

  it('decodes many observations in tiles: a batch gives the sum of its halves, with and without Poisson', () => {
    // 90 rows × 25 observations = 2250 observations: two full tiles and a partial one; each half fits in two.
    const batch = allSpiralsBatch(new Rng(31), 90, 30, 25);
    for (const poisson of [false, true]) {
      const model = new LatentOde(
        { obsDim: 2, latentDim: 3, rnnHidden: 6, odeHidden: 5, poisson },
        new Rng(4),
      );
      const noise = model.drawNoise(batch.rows, new Rng(8));
      const whole = model.lossAndGradientWith(batch, noise, batch.rows);
      const expected = model.gradients.slice();
      let loss = 0;
      const sum = new Float64Array(expected.length);
      for (const [start, end] of [
        [0, 45],
        [45, 90],
      ]) {
        const part = {
          eps: noise.eps.subarray(start * 3, end * 3),
          splits: noise.splits.subarray(start, end),
          prefixes: noise.prefixes.subarray(start, end),
        };
        loss += model.lossAndGradientWith(sliceRows(batch, start, end), part, batch.rows).loss;
        for (let i = 0; i < sum.length; i++) sum[i] += model.gradients[i];
      }
      expect(loss).toBeCloseTo(whole.loss, 9);
      let worst = 0;
      for (let i = 0; i < sum.length; i++) {
        worst = Math.max(worst, Math.abs(sum[i] - expected[i]) / (1e-6 + Math.abs(expected[i])));
      }
      expect(worst).toBeLessThan(1e-9);
    }
  });

  it('ignores missing values in the likelihood', () => {
    const model = new LatentOde({ obsDim: 2 }, new Rng(2));
    const a = model.lossAndGradient(batch, new Rng(7)).logLikelihood;
    const changed = batchFromSeries([SMALL_SERIES[0], SMALL_SERIES[1]], 2, [0.7]);
    // The one NaN sits in row 0, slot 1, dim 0: the log-likelihood must not see any value there.
    expect(Number.isNaN(changed.values[2])).toBe(true);
    expect(model.lossAndGradient(changed, new Rng(7)).logLikelihood).toBe(a);
    const observedChanged = batchFromSeries(
      [{ ...SMALL_SERIES[0], values: [1, 0.5, Number.NaN, 0.9, 0.3, -0.1] }, SMALL_SERIES[1]],
      2,
      [0.7],
    );
    expect(model.lossAndGradient(observedChanged, new Rng(7)).logLikelihood).not.toBe(a);
  });

  describe('initial states: encoder mean, decode and refinement', () => {
    /** The refinement objective of every row, computed directly from a decode at `z0`. */
    function objectives(model: LatentOde, b: typeof batch, z0: Float64Array): number[] {
      const G = b.grid.length;
      const x = model.decode(z0, b.grid);
      const L = model.latentDim;
      return Array.from({ length: b.rows }, (_, r) => {
        let s = 0;
        for (let k = 0; k < b.slots; k++) {
          const g = b.index[r * b.slots + k];
          if (g < 0) continue;
          for (let d = 0; d < b.obsDim; d++) {
            const v = b.values[(r * b.slots + k) * b.obsDim + d];
            if (!Number.isNaN(v)) s += ((x[(r * G + g) * b.obsDim + d] - v) / model.observationStd) ** 2;
          }
        }
        for (let j = 0; j < L; j++) s += z0[r * L + j] ** 2;
        return 0.5 * s;
      });
    }

    for (const poisson of [false, true]) {
      it(`predict decodes from the encoder's mean, and with refine from the refined states (poisson ${poisson})`, () => {
        const model = new LatentOde(
          { obsDim: 2, poisson, decoderSkip: true, dynamicsSkip: true },
          new Rng(3),
        );
        const grid = Float64Array.from({ length: 9 }, (_, i) => i * 0.1);
        const mean = model.encodeMean(batch);
        expect(mean.length).toBe(batch.rows * model.latentDim);
        expect(model.predict(batch, grid)).toEqual(model.decode(mean, grid));
        const refined = model.refineInitialStates(batch, { iterations: 4 });
        expect(model.predict(batch, grid, { refine: 4 })).toEqual(model.decode(refined.z0, grid));
        // Rows are independent: decoding one row alone gives the same trajectory.
        const one = model.decode(mean.subarray(model.latentDim), grid);
        expect(one).toEqual(model.decode(mean, grid).subarray(grid.length * 2));
      });
    }

    it('refinement lowers every row objective to a stationary point, leaving out missing values', () => {
      const model = new LatentOde({ obsDim: 2, observationStd: 0.1 }, new Rng(5));
      for (let i = 0; i < model.parameters.length; i++) model.parameters[i] *= 2;
      const result = model.refineInitialStates(batch, { iterations: 60, tolerance: 0 });
      const start = objectives(model, batch, model.encodeMean(batch));
      const end = objectives(model, batch, result.z0);
      for (let r = 0; r < batch.rows; r++) {
        expect(result.objectiveBefore[r]).toBeCloseTo(start[r], 10);
        expect(result.objectiveAfter[r]).toBeCloseTo(end[r], 10);
        expect(end[r]).toBeLessThan(0.9 * start[r]);
      }
      // The gradient of each row objective (central differences) vanishes at the result.
      const L = model.latentDim;
      for (let r = 0; r < batch.rows; r++) {
        for (let j = 0; j < L; j++) {
          const z = result.z0.slice();
          const h = 1e-5;
          z[r * L + j] += h;
          const up = objectives(model, batch, z)[r];
          z[r * L + j] -= 2 * h;
          const down = objectives(model, batch, z)[r];
          expect(Math.abs((up - down) / (2 * h))).toBeLessThan(1e-4 * Math.max(1, end[r]));
        }
      }
    });

    it('recovers the initial state that generated noise-free observations', () => {
      const model = new LatentOde({ obsDim: 2, observationStd: 1e-3, activation: 'tanh' }, new Rng(8));
      // Weights large enough for curved trajectories, small enough for one basin around the truth.
      for (let i = 0; i < model.parameters.length; i++) model.parameters[i] *= 2;
      const times = Float64Array.from({ length: 12 }, (_, i) => 0.05 + i * 0.08);
      const truth = Float64Array.from([0.4, -0.3, 0.2, 0.1, -0.5, 0.25, 0.3, -0.2]);
      const clean = model.decode(truth, Float64Array.from([0, ...times]));
      const series = [0, 1].map((r) => ({
        times: Array.from(times),
        values: Array.from({ length: 24 }, (_, i) => clean[(r * 13 + 1) * 2 + i]),
      }));
      const b = batchFromSeries(series, 2);
      const result = model.refineInitialStates(b, { iterations: 100, tolerance: 0 });
      for (let i = 0; i < truth.length; i++) expect(Math.abs(result.z0[i] - truth[i])).toBeLessThan(1e-3);
      // What is left is the prior term (the observations weigh a million times more).
      for (let r = 0; r < 2; r++) {
        const prior = 0.5 * truth.subarray(4 * r, 4 * r + 4).reduce((a, v) => a + v * v, 0);
        expect(result.objectiveAfter[r]).toBeCloseTo(prior, 3);
        expect(result.objectiveBefore[r]).toBeGreaterThan(1e4);
      }
      // The untrained encoder's mean is far from it.
      const mean = model.encodeMean(b);
      expect(Math.max(...truth.map((v, i) => Math.abs(mean[i] - v)))).toBeGreaterThan(0.1);
    });

    it('iterations 0 returns the encoder mean; bad arguments are refused naming them', () => {
      const model = new LatentOde({ obsDim: 2 }, new Rng(3));
      const result = model.refineInitialStates(batch, { iterations: 0 });
      expect(result.z0).toEqual(model.encodeMean(batch));
      expect(result.objectiveAfter).toEqual(result.objectiveBefore);
      expect(() => model.predict(batch, batch.grid, { refine: -1 })).toThrow(
        /refine must be an integer >= 0, got -1/,
      );
      expect(() => model.refineInitialStates(batch, { iterations: 1.5 })).toThrow(/iterations/);
      expect(() => model.decode(new Float64Array(5), batch.grid)).toThrow(/z0 has 5 values/);
    });
  });

  it('solves the latent ODE to fourth order: RK4 steps with Hermite dense output converge to a fine solve', () => {
    // tanh: smooth dynamics (ELU's second derivative jumps at 0, which caps the observable order).
    const make = (maxStep: number) => new LatentOde({ obsDim: 2, maxStep, activation: 'tanh' }, new Rng(4));
    const reference = make(0.002);
    // Larger weights make the dynamics non-trivial so the comparison means something.
    for (let i = 0; i < reference.parameters.length; i++) reference.parameters[i] *= 3;
    const grid = Float64Array.from({ length: 31 }, (_, i) => i * 0.0637);
    const exact = reference.predict(batch, grid);
    const error = (maxStep: number) => {
      const m = make(maxStep);
      m.parameters.set(reference.parameters);
      const p = m.predict(batch, grid);
      let worst = 0;
      for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i] - exact[i]));
      return worst;
    };
    let motion = 0;
    for (let i = 0; i < exact.length; i++) motion = Math.max(motion, Math.abs(exact[i] - exact[i % 2]));
    expect(motion).toBeGreaterThan(0.05);
    const coarse = error(0.2);
    const half = error(0.1);
    expect(coarse).toBeLessThan(1e-3);
    // Fourth order: halving the step divides the error by about 16.
    expect(coarse / half).toBeGreaterThan(10);
  });

  it('RNN baseline gradient matches finite differences and it extrapolates one value per requested time', () => {
    const model = new RnnBaseline({ obsDim: 2, hidden: 5, outputHidden: 4 }, new Rng(2));
    expect(
      gradientError(model.parameters, model.gradients, () => model.lossAndGradient(batch).loss),
    ).toBeLessThan(1e-4);
    const out = model.extrapolate(batch, Float64Array.from([0.8, 0.9, 1.0]));
    expect(out.length).toBe(2 * 3 * 2);
    for (const v of out) expect(Number.isFinite(v)).toBe(true);
  });

  it('scaled recurrent inputs: the factors from the data, and the same RNN baseline as scaled weights', () => {
    // Values 1, 0.5, 0.2, 0.3, -0.1 / 0.4, 0.2, -0.3 (one missing): std of each variable; gaps 0.1, 0.2, 0.05,
    // 0.2 (from 0), 0.3 → mean 0.17.
    const series = [
      { times: [0.1, 0.3, 0.35], values: [1, 0.5, 0.2, 0.3, -0.1, Number.NaN] },
      { times: [0.2, 0.5], values: [0.4, 0.2, -0.3, 0.1] },
    ];
    const scale = encoderInputScale(batchFromSeries(series, 2));
    const std = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
    };
    expect(scale[0]).toBeCloseTo(1 / std([1, 0.2, -0.1, 0.4, -0.3]), 12);
    expect(scale[1]).toBeCloseTo(1 / std([0.5, 0.3, 0.2, 0.1]), 12);
    expect(scale[2]).toBeCloseTo(1 / 0.17, 10);
    // Scaling an input by s is the same as scaling the weights that read it by s: equal losses.
    const factors = [2, 0.5, 4];
    const scaled = new RnnBaseline(
      { obsDim: 2, hidden: 5, outputHidden: 4, inputScale: factors },
      new Rng(2),
    );
    const plain = new RnnBaseline({ obsDim: 2, hidden: 5, outputHidden: 4 }, new Rng(2));
    // Layout: RNN input weights [hidden, 3] first, then the output MLP's first layer reads [h (5), gap].
    for (let o = 0; o < 5; o++) for (let i = 0; i < 3; i++) plain.parameters[o * 3 + i] *= factors[i];
    const outputFirst = 5 * 3 + 5 + 5 * 5;
    for (let o = 0; o < 4; o++) plain.parameters[outputFirst + o * 6 + 5] *= factors[2];
    expect(scaled.lossAndGradient(batch).loss).toBeCloseTo(plain.lossAndGradient(batch).loss, 12);
    const times = Float64Array.from([0.8, 0.9, 1.0]);
    const a = scaled.extrapolate(batch, times);
    const b = plain.extrapolate(batch, times);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 12);
    expect(
      gradientError(scaled.parameters, scaled.gradients, () => scaled.lossAndGradient(batch).loss),
    ).toBeLessThan(1e-4);
    expect(() => new RnnBaseline({ obsDim: 2, inputScale: [1, 1] }, new Rng(0))).toThrow(/inputScale/);
    expect(() => new LatentOde({ obsDim: 2, encoderInputScale: [1, 0, 1] }, new Rng(0))).toThrow(
      /encoderInputScale/,
    );
  });

  it('training improves the ELBO clearly on a tiny spiral problem', () => {
    const rng = new Rng(11);
    const data = makeSpirals(rng, { count: 16, trainPoints: 20, extrapolatePoints: 10, totalPoints: 200 });
    const n = 10;
    const obs = sampleObservationIndices(rng, 16, data.trainPoints, n);
    const batch16 = spiralTrainingBatch(
      data,
      obs,
      n,
      Array.from({ length: 16 }, (_, i) => i),
    );
    const model = new LatentOde({ obsDim: 2, observationStd: 0.3 }, rng);
    const adam = new Adam(model.parameters.length, { lr: 0.01 });
    const losses: number[] = [];
    for (let it = 0; it < 150; it++) {
      losses.push(model.lossAndGradient(batch16, rng).loss);
      adam.step(model.parameters, model.gradients);
    }
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(last).toBeLessThan(0.3 * first);
  });

  it('with --poisson the observation-time likelihood approaches the optimum of a homogeneous process', () => {
    const rng = new Rng(13);
    const data = makeSpirals(rng, { count: 8, trainPoints: 20, extrapolatePoints: 10, totalPoints: 200 });
    const n = 10;
    const obs = sampleObservationIndices(rng, 8, data.trainPoints, n);
    const batch8 = spiralTrainingBatch(
      data,
      obs,
      n,
      Array.from({ length: 8 }, (_, i) => i),
    );
    const model = new LatentOde({ obsDim: 2, observationStd: 0.3, poisson: true }, rng);
    const adam = new Adam(model.parameters.length, { lr: 0.02 });
    // n events in a window of length T: the best constant rate is n/T, giving n·log(n/T) − n.
    const window = data.times[data.trainPoints - 1];
    const optimum = n * Math.log(n / window) - n;
    const start = model.lossAndGradient(batch8, rng).timesLogLikelihood;
    let last = start;
    for (let it = 0; it < 200; it++) {
      last = model.lossAndGradient(batch8, rng).timesLogLikelihood;
      adam.step(model.parameters, model.gradients);
    }
    expect(start).toBeLessThan(optimum - 5);
    expect(last).toBeGreaterThan(optimum - 1);
  });

  it('the RNN baseline learns next-step prediction on the same data', () => {
    const rng = new Rng(12);
    const data = makeSpirals(rng, { count: 16, trainPoints: 20, extrapolatePoints: 10, totalPoints: 200 });
    const obs = sampleObservationIndices(rng, 16, data.trainPoints, 10);
    const batch16 = spiralTrainingBatch(
      data,
      obs,
      10,
      Array.from({ length: 16 }, (_, i) => i),
    );
    const model = new RnnBaseline({ obsDim: 2 }, rng);
    const adam = new Adam(model.parameters.length, { lr: 0.01 });
    const first = model.lossAndGradient(batch16).loss;
    let last = first;
    for (let it = 0; it < 150; it++) {
      last = model.lossAndGradient(batch16).loss;
      adam.step(model.parameters, model.gradients);
    }
    expect(last).toBeLessThan(0.2 * first);
  });
});

function finalTheta(runDir: string): number[] {
  const latest = JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoints', 'latest.json'), 'utf8'));
  const dir = path.join(runDir, 'checkpoints', latest.checkpoint ?? latest.dir ?? latest.name);
  const file = fs.readFileSync(path.join(dir, 'params.safetensors'));
  const decoded = decodeSafetensors(new Uint8Array(file.buffer, file.byteOffset, file.byteLength));
  return Array.from(decoded.tensors.get('theta')!.data as Float64Array);
}

/** A short spiral run (10 training spirals, 15 observations, batches of 5) into `out`, with `extra` options. */
function smallRun(out: string, iters: string, ...extra: string[]): string[] {
  return [
    'train',
    'latent-ode',
    '--iters',
    iters,
    '--spirals',
    '10',
    '--test-spirals',
    '3',
    '--obs',
    '15',
    '--batch-size',
    '5',
    '--skip-figures',
    '--out',
    out,
    '--json',
    '--progress',
    'off',
    ...extra,
  ];
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'neuralode', ...args], {
    registry: new ExperimentRegistry().register(latentOdeExperiment),
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: {},
  });
  return { code, stdout, stderr };
}

describe('TrainingState', () => {
  const config = {
    lr: 0.01,
    beta2: 0.999,
    ema: 0,
    clip: 0,
    iters: 10,
    schedule: 'constant',
    warmup: 0,
  } as unknown as LatentOdeExperimentConfig;

  it('keeps the parameters with the lowest validation score; NaN is never the best', () => {
    const theta = new Float64Array([1, 2]);
    const state = new TrainingState(config, theta);
    const scores = [Number.NaN, 0.5, 0.3, Number.NaN, 0.4];
    scores.forEach((score, i) => {
      theta[0] = i;
      expect(
        Object.is(
          state.validate(i + 1, () => score),
          score,
        ),
      ).toBe(true);
    });
    expect(state.best).toMatchObject({ score: 0.3, iteration: 3 });
    state.finish();
    expect(Array.from(theta)).toEqual([2, 2]);
    // Nothing but NaN: the last iterate stays.
    const lost = new TrainingState(config, theta);
    theta[0] = 7;
    lost.validate(1, () => Number.NaN);
    lost.finish();
    expect(theta[0]).toBe(7);
  });

  it('with --ema scores the average, with the iterate restored afterwards', () => {
    const theta = new Float64Array([4, 4]);
    const state = new TrainingState({ ...config, ema: 0.5 } as LatentOdeExperimentConfig, theta);
    (state.average as ParameterAverage).values.set([1, 1]);
    const seen: number[] = [];
    state.validate(1, () => {
      seen.push(theta[0]);
      return 1;
    });
    expect(seen).toEqual([1]);
    expect(Array.from(theta)).toEqual([4, 4]);
    state.finish();
    expect(Array.from(theta)).toEqual([1, 1]);
  });
});

describe('neuralode train latent-ode', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'latent-ode-'));

  it('--json reports RMSE per model and observation count, ms per iteration and writes figures', async () => {
    const out = path.join(tmp, 'spirals');
    const r = await cli(
      'train',
      'latent-ode',
      '--iters',
      '3',
      '--spirals',
      '12',
      '--test-spirals',
      '3',
      '--obs',
      '10,20',
      '--model',
      'both',
      '--batch-size',
      '6',
      '--poisson',
      '--out',
      out,
      '--json',
      '--progress',
      'off',
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(1);
    const summary = JSON.parse(lines[0]).summary;
    expect(summary.experiment).toBe('latent-ode');
    expect(summary.iters).toBe(3);
    expect(summary.batch_size).toBe(6);
    expect(summary.ms_per_iter).toBeGreaterThan(0);
    expect(Object.keys(summary.rmse).sort()).toEqual(['latent-ode', 'rnn']);
    for (const model of ['latent-ode', 'rnn']) {
      expect(Object.keys(summary.rmse[model]).sort()).toEqual(['10', '20']);
      for (const v of Object.values(summary.rmse[model])) expect(v).toBeGreaterThan(0);
    }
    // Validation every 500 iterations, and the last iterate: with 3 iterations, iteration 3 is selected.
    for (const model of ['latent-ode', 'rnn']) {
      expect(summary.selected_iteration[model]).toEqual({ '10': 3, '20': 3 });
      for (const v of Object.values(summary.validation_rmse[model])) expect(v).toBeGreaterThan(0);
    }
    expect(fs.existsSync(path.join(out, 'figures', 'latent-ode-obs10-spirals.svg'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'figures', 'rnn-obs20-loss.png'))).toBe(true);
    // Every phase's model is saved, each rebuildable from its options.
    for (const n of ['10', '20']) {
      const ode = loadSafetensors(path.join(out, 'models', `latent-ode-obs${n}.safetensors`));
      const rnn = loadSafetensors(path.join(out, 'models', `rnn-obs${n}.safetensors`));
      expect([ode.metadata.model, rnn.metadata.model]).toEqual(['latent-ode', 'rnn']);
      expect(ode.metadata.selected_iteration).toBe('3');
      const options = JSON.parse(ode.metadata.options);
      expect(options.poisson).toBe(true);
      expect(new LatentOde(options, new Rng(1)).parameters.length).toBe(ode.tensors.get('theta')!.shape[0]);
      expect(new RnnBaseline(JSON.parse(rnn.metadata.options), new Rng(1)).parameters.length).toBe(
        rnn.tensors.get('theta')!.shape[0],
      );
    }
  });

  it("examples/evaluate-latent-ode scores saved models on fresh spirals with the run's noise", async () => {
    const out = path.join(tmp, 'evaluate');
    const r = await cli(...smallRun(out, '2', '--model', 'both', '--noise', '0.1'));
    expect(r.code).toBe(0);
    const models = path.join(out, 'models');
    const scores = evaluateLatentOdeModels(models, { count: 200, refine: 2, seed: 5 });
    expect(scores.map((s) => [path.basename(s.file), s.model, s.observations])).toEqual([
      ['latent-ode-obs15.safetensors', 'latent-ode', 15],
      ['rnn-obs15.safetensors', 'rnn', 15],
    ]);
    // The same number from the model rebuilt by hand on spirals drawn with the run's noise (0.1).
    const saved = loadSafetensors(path.join(models, 'latent-ode-obs15.safetensors'));
    const model = new LatentOde(JSON.parse(saved.metadata.options), new Rng(0));
    model.parameters.set(saved.tensors.get('theta')!.data as Float64Array);
    const rng = new Rng(5);
    const data = makeSpirals(rng, { count: 200, noiseStd: 0.1 });
    const batch = spiralEvaluationBatch(data, sampleObservationIndices(rng, 200, data.trainPoints, 15), 15);
    const T = data.times.length;
    const [ode, rnn] = scores;
    expect(ode.score.rmse).toBe(extrapolationRmse(data, model.predict(batch, data.times), T, 0));
    expect(ode.refined!.rmse).toBe(
      extrapolationRmse(data, model.predict(batch, data.times, { refine: 2 }), T, 0),
    );
    // Two blocks of 100 spirals, one on each side of the overall RMSE.
    for (const s of [ode.score, ode.refined!, rnn.score]) {
      expect(s.blocks[0]).toBeLessThanOrEqual(s.rmse);
      expect(s.blocks[1]).toBeGreaterThanOrEqual(s.rmse);
      expect(s.blocks[0]).toBeLessThan(s.blocks[1]);
    }
    expect(rnn.refined).toBeUndefined();
    const empty = path.join(tmp, 'no-models');
    fs.mkdirSync(empty);
    expect(() => evaluateLatentOdeModels(empty)).toThrow(`${empty} holds no`);
    expect(() => evaluateLatentOdeModels(path.join(tmp, 'absent'))).toThrow(/absent is not a directory/);
  });

  it('a run stopped and resumed ends with the same parameters and RMSE as an uninterrupted run', async () => {
    // A constant learning rate: the cosine schedule is laid out over --iters, which differs between the runs.
    const args = (out: string, iters: string) =>
      // The parameter average is part of the state a checkpoint must carry.
      // So are the best validated parameters (checked every 2 iterations).
      smallRun(out, iters, '--schedule', 'constant', '--ema', '0.9', '--validate-every', '2');
    const whole = path.join(tmp, 'whole');
    const part = path.join(tmp, 'part');
    const full = await cli(...args(whole, '6'));
    expect(full.code).toBe(0);
    expect((await cli(...args(part, '3'))).code).toBe(0);
    // The checkpoint at iteration 3 carries the parameters validated at iteration 2 and their score.
    const saved = loadCheckpoint(part).extra as {
      best: { score: number; iteration: number; theta: Float64Array };
    };
    const logged = fs
      .readFileSync(path.join(part, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.validation_rmse !== undefined);
    expect(logged.map((m) => m.iter)).toEqual([2]);
    expect(saved.best.iteration).toBe(2);
    expect(saved.best.score).toBe(logged[0].validation_rmse);
    expect(saved.best.theta.length).toBe(finalTheta(part).length);
    const resumed = await cli(
      'train',
      'latent-ode',
      '--resume',
      part,
      '--iters',
      '6',
      '--json',
      '--progress',
      'off',
    );
    expect(resumed.code).toBe(0);
    expect(finalTheta(part)).toEqual(finalTheta(whole));
    const [a, b] = [JSON.parse(resumed.stdout).summary, JSON.parse(full.stdout).summary];
    expect(a.rmse).toEqual(b.rmse);
    expect(a.validation_rmse).toEqual(b.validation_rmse);
    expect(a.selected_iteration).toEqual(b.selected_iteration);
  });

  it('--refine: the RMSE of refined initial states, with the encoder-mean RMSE alongside; --refine 0 gives the latter', async () => {
    // Without validation both runs evaluate their last iterate, which --refine does not change.
    const common = ['--validation-spirals', '0', '--consistency-min-later', '5'];
    const refined = await cli(...smallRun(path.join(tmp, 'refine10'), '4', ...common));
    const plain = await cli(...smallRun(path.join(tmp, 'refine0'), '4', ...common, '--refine', '0'));
    expect([refined.code, plain.code]).toEqual([0, 0]);
    const a = JSON.parse(refined.stdout).summary;
    const b = JSON.parse(plain.stdout).summary;
    expect(b.rmse_encoder_mean).toBeUndefined();
    expect(a.rmse_encoder_mean['15']).toBe(b.rmse['latent-ode']['15']);
    expect(a.rmse_encoder_mean_covered['15']).toBe(b.rmse_covered['latent-ode']['15']);
    expect(a.rmse['latent-ode']['15']).not.toBe(b.rmse['latent-ode']['15']);
    // The evaluated model (here the last iterate) is saved with the options that rebuild it.
    const saved = loadSafetensors(path.join(tmp, 'refine0', 'models', 'latent-ode-obs15.safetensors'));
    const theta = saved.tensors.get('theta')!.data as Float64Array;
    expect(Array.from(theta)).toEqual(finalTheta(path.join(tmp, 'refine0')));
    expect(saved.metadata.model).toBe('latent-ode');
    const rebuilt = new LatentOde(JSON.parse(saved.metadata.options), new Rng(99));
    expect(rebuilt.parameters.length).toBe(theta.length);
    expect(rebuilt.encoderInputScale.length).toBe(3);
    expect(rebuilt.consistencyMinLater).toBe(5);
    expect(JSON.parse(plain.stdout).outputs.models).toBe(path.join(tmp, 'refine0', 'models'));
  });

  it('--consistency, --decoder-activation, --linear-skip, --encoder and --bias-free-dynamics reach the model', async () => {
    const run = async (name: string, ...extra: string[]) => {
      const out = path.join(tmp, name);
      const r = await cli(...smallRun(out, '3', ...extra));
      expect(r.code).toBe(0);
      const metrics = fs
        .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      return { metrics, theta: finalTheta(out) };
    };
    const plain = await run('plain', '--consistency', '0');
    const now = ['--consistency-start', '0', '--consistency-ramp', '0'];
    const consistent = await run('consistent', '--consistency', '50', ...now);
    const ramped = await run(
      'ramped',
      '--consistency',
      '50',
      '--consistency-start',
      '1',
      '--consistency-ramp',
      '1',
    );
    const relu = await run('relu', '--consistency', '0', '--decoder-activation', 'relu');
    const decoderOnly = await run('decoder-skip', '--consistency', '0', '--linear-skip', 'decoder');
    const none = await run('no-skip', '--consistency', '0', '--linear-skip', 'none');
    const gated = await run('gated', '--consistency', '0', '--encoder', 'gru');
    const homogeneous = await run(
      'homogeneous',
      '--consistency',
      '0',
      '--activation',
      'relu',
      '--bias-free-dynamics',
    );
    for (const m of plain.metrics) expect(m.consistency).toBeUndefined();
    for (const m of consistent.metrics) expect(m.consistency).toBeGreaterThan(0);
    // Weight 0 up to --consistency-start, then a ramp that reaches --consistency after --consistency-ramp.
    expect(ramped.metrics.map((m) => m.consistency > 0)).toEqual([false, false, true]);
    // Same data, noise and initial parameters: only the option differs, so the trained parameters do too.
    expect(consistent.theta).not.toEqual(plain.theta);
    expect(relu.theta).not.toEqual(plain.theta);
    expect(relu.theta.length).toBe(plain.theta.length);
    // The skips' weights come last in θ: 4·2 + 2 for the decoder's, 4·4 + 4 for the dynamics'.
    expect(plain.theta.length).toBe(none.theta.length + 10 + 20);
    expect(decoderOnly.theta.length).toBe(none.theta.length + 10);
    // The GRU encoder has two more 25 × (25 + 3) + 25 blocks than the default Elman cell.
    expect(gated.theta.length).toBe(plain.theta.length + 2 * (25 * 28 + 25));
    // Bias-free dynamics: 20 + 20 + 4 biases of the MLP and 4 of its skip fewer.
    expect(homogeneous.theta.length).toBe(plain.theta.length - 48);
  });

  it('rejects a bad --obs list naming the value', async () => {
    const r = await cli(
      'train',
      'latent-ode',
      '--iters',
      '1',
      '--obs',
      '30,abc',
      '--out',
      path.join(tmp, 'bad'),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--obs 30,abc: 'abc' is not an integer in \[1, 100\]/);
  });

  it('--data trains on a CSV with missing values and writes forecasts over the horizon', async () => {
    const csv = path.join(tmp, 'series.csv');
    const rows = ['id,time,x,y'];
    for (const id of ['a', 'b', 'c']) {
      for (let k = 0; k < 8; k++) {
        const t = k * 0.5 + (id === 'b' ? 0.25 : 0);
        const y = k === 3 ? '' : String(Math.sin(t));
        rows.push(`${id},${t + 10},${Math.cos(t)},${y}`);
      }
    }
    fs.writeFileSync(csv, `${rows.join('\n')}\n`);
    const out = path.join(tmp, 'csv-run');
    const r = await cli(
      'train',
      'latent-ode',
      '--data',
      csv,
      '--iters',
      '5',
      '--forecast',
      '2',
      '--forecast-points',
      '4',
      '--out',
      out,
      '--json',
      '--progress',
      'off',
      '--skip-figures',
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout).summary;
    expect(summary.series).toBe(3);
    expect(summary.reconstruction_rmse).toBeGreaterThan(0);
    const forecast = fs.readFileSync(path.join(out, 'forecasts.csv'), 'utf8').trim().split('\n');
    expect(forecast[0]).toBe('id,time,x,y');
    expect(forecast.length).toBe(1 + 3 * 4);
    const last = forecast.filter((l) => l.startsWith('a,')).map((l) => l.split(',').map(Number));
    expect(last.map((c) => c[1])).toEqual([14, 14.5, 15, 15.5].map((t) => expect.closeTo(t, 9)));
    for (const c of last) expect(Number.isFinite(c[2]) && Number.isFinite(c[3])).toBe(true);
    // The saved model and its scaling reproduce the forecasts through the library.
    const saved = loadSafetensors(path.join(out, 'models', 'latent-ode.safetensors'));
    const model = new LatentOde(JSON.parse(saved.metadata.options), new Rng(0));
    model.parameters.set(saved.tensors.get('theta')!.data as Float64Array);
    const mean: number[] = JSON.parse(saved.metadata.data_mean);
    const std: number[] = JSON.parse(saved.metadata.data_std);
    const timeScale = Number(saved.metadata.time_scale);
    expect(JSON.parse(saved.metadata.variables)).toEqual(['x', 'y']);
    const parsed = rows.slice(1).map((l) => l.split(','));
    const scaled = ['a', 'b', 'c'].map((id) => {
      const mine = parsed.filter((c) => c[0] === id);
      const t0 = Number(mine[0][1]);
      return {
        times: mine.map((c) => (Number(c[1]) - t0) * timeScale),
        values: mine.flatMap((c) =>
          [c[2], c[3]].map((v, d) => (v === '' ? Number.NaN : (Number(v) - mean[d]) / std[d])),
        ),
      };
    });
    const z0 = model.refineInitialStates(batchFromSeries(scaled, 2)).z0;
    const future = scaled.map((sc) =>
      Array.from({ length: 4 }, (_, k) => sc.times[sc.times.length - 1] + (2 * timeScale * (k + 1)) / 4),
    );
    const grid = Float64Array.from(new Set([0, ...future.flat()])).sort();
    const decoded = model.decode(z0, grid);
    const at = future[0].map((t) => grid.indexOf(t));
    for (let k = 0; k < 4; k++) {
      for (let d = 0; d < 2; d++) {
        expect(last[k][2 + d]).toBeCloseTo(decoded[(0 * grid.length + at[k]) * 2 + d] * std[d] + mean[d], 9);
      }
    }
  });

  it('--data refuses a malformed file with the line number and reason', async () => {
    const csv = path.join(tmp, 'broken.csv');
    fs.writeFileSync(csv, 'id,time,x\na,0,1\na,1,oops\n');
    const r = await cli(
      'train',
      'latent-ode',
      '--data',
      csv,
      '--iters',
      '1',
      '--out',
      path.join(tmp, 'broken'),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/broken\.csv: line 3: value 'oops' of variable 'x' is not a finite number/);
  });
});

describe('LatentOdePool', () => {
  for (const encoder of ['rnn', 'gru'] as const) {
    it(`splits a step across worker threads with the same loss and gradient as one thread (${encoder} encoder)`, async () => {
      const batch = allSpiralsBatch(new Rng(21), 96, 20, 8);
      const options = {
        obsDim: 2,
        latentDim: 3,
        rnnHidden: 6,
        odeHidden: 5,
        decoderHidden: 5,
        consistency: 2,
        encoderPrefix: [0.4, 1] as const,
        encoder,
      };
      const model = new LatentOde(options, new Rng(4));
      const single = model.lossAndGradient(batch, new Rng(8));
      const expected = model.gradients.slice();
      const pool = await LatentOdePool.create(options, 3);
      try {
        expect(pool.threads).toBe(3);
        const split = pool.lossAndGradient(model, batch, new Rng(8));
        expect(split.loss).toBeCloseTo(single.loss, 10);
        expect(split.kl).toBeCloseTo(single.kl, 10);
        expect(split.consistency).toBeCloseTo(single.consistency, 10);
        let worst = 0;
        for (let i = 0; i < expected.length; i++)
          worst = Math.max(worst, Math.abs(model.gradients[i] - expected[i]));
        expect(worst).toBeLessThan(1e-10 * (1 + Math.max(...expected.map(Math.abs))));
        // Parameters travel with every request: a changed model gives the changed result.
        model.parameters[0] += 0.1;
        const moved = pool.lossAndGradient(model, batch, new Rng(8)).loss;
        expect(moved).toBeCloseTo(model.lossAndGradient(batch, new Rng(8)).loss, 10);
      } finally {
        pool.close();
      }
      expect(() => pool.lossAndGradient(model, batch, new Rng(8))).toThrow(/closed/);
      await expect(LatentOdePool.create(options, 0)).rejects.toThrow(/threads/);
    });
  }
});
