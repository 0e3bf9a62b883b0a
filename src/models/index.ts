/**
 * The models of the paper's experiments: the latent ODE (section 5) with its RNN baseline, and the batch
 * layout they train on.
 */
export {
  LatentOde,
  type LatentOdeLoss,
  type LatentOdeNoise,
  type LatentOdeOptions,
  type PredictOptions,
  type RefineOptions,
  type RefineResult,
} from './latent-ode.js';
export {
  batchFromSeries,
  encoderInputScale,
  type ObservationBatch,
  sliceRows,
} from './latent-ode-batch.js';
export { LatentOdePool } from './latent-ode-pool.js';
export { RnnBaseline, type RnnBaselineOptions } from './rnn-baseline.js';
