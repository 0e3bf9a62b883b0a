/**
 * Layers and models whose parameters are views into one flat Float64Array per model, so that optimizers, the
 * adjoint method and checkpoints all see θ as a single vector.
 */
export { Elu, Relu, Sigmoid, Softplus, Tanh } from './activations.js';
export { ConcatLinear, ConcatSquashLinear } from './concat-linear.js';
export { ConcatConv2d, Conv2d, type Conv2dLayerOptions } from './conv.js';
export { NnError, type NnErrorCode } from './errors.js';
export { GroupNorm, type GroupNormLayerOptions } from './group-norm.js';
export {
  fanInOut,
  type InitContext,
  type Initializer,
  initConstant,
  initGlorotNormal,
  initGlorotUniform,
  initKaimingNormal,
  initKaimingUniform,
  initNormal,
  initOnes,
  initPytorchDefault,
  initUniform,
  initZeros,
  type KaimingOptions,
  type Nonlinearity,
  recommendedGain,
} from './init.js';
export { Linear, type LinearOptions } from './linear.js';
export { Module, Parameter, type ParameterInitOptions } from './module.js';
export { GruCell, type RecurrentCellOptions, RnnCell } from './recurrent.js';
export { type PlainLayer, Sequential, type SequentialMember, type TimeLayer } from './sequential.js';
export {
  applyParameters,
  decodeParameters,
  encodeParameters,
  loadParameters,
  parameterEntries,
  type SaveParametersOptions,
  saveParameters,
} from './serialization.js';
export type { TimeInput } from './time.js';
