/** Optimizers over flat parameter vectors, learning-rate schedules and gradient clipping. */
export { Adam, type AdamOptions, AdamW } from './adam.js';
export { ParameterAverage } from './average.js';
export { clipGradNorm } from './clip.js';
export { OptimError, type OptimErrorCode } from './errors.js';
export {
  type LearningRate,
  OPTIMIZER_STATE_FORMAT,
  OPTIMIZER_STATE_VERSION,
  type Optimizer,
  type OptimizerKind,
  type OptimizerState,
} from './optimizer.js';
export { Rmsprop, type RmspropOptions } from './rmsprop.js';
export {
  ConstantSchedule,
  CosineSchedule,
  type CosineScheduleOptions,
  ExponentialSchedule,
  type ExponentialScheduleOptions,
  type LearningRateSchedule,
  StepSchedule,
  type StepScheduleOptions,
} from './schedules.js';
export { Sgd, type SgdOptions } from './sgd.js';
export { decodeFloat64Base64, encodeFloat64Base64 } from './state-encoding.js';
