/**
 * The float64 tensor core: dense n-d tensors, broadcasting elementwise ops, reductions, matrix products,
 * convolution, normalisation and losses, all differentiable to any order by the engine in src/autograd.
 */
export { formatShape, TensorError, type TensorErrorCode } from './errors.js';
export {
  fromArray,
  full,
  ones,
  onesLike,
  rand,
  randn,
  scalar,
  type TensorOptions,
  zeros,
  zerosLike,
} from './factories.js';
export type { TensorData } from './kernels.js';
export {
  allocResidentFloat64,
  setWasmKernelsEnabled,
  wasmGemmAvailable as wasmKernelsAvailable,
} from './kernels-wasm.js';
export { type Conv2dOptions, conv2d } from './ops/conv.js';
export {
  abs,
  add,
  addScalar,
  assertFinite,
  astype,
  cos,
  div,
  elu,
  exp,
  log,
  mul,
  mulScalar,
  neg,
  pow,
  powScalar,
  rdivScalar,
  relu,
  rsubScalar,
  sigmoid,
  sin,
  softplus,
  sqrt,
  square,
  sub,
  tanh,
  where,
} from './ops/elementwise.js';
export {
  crossEntropy,
  gaussianLogLikelihood,
  klDiagonalGaussians,
  mseLoss,
  type Reduction,
} from './ops/loss.js';
export { linear, matmul } from './ops/matmul.js';
export { type GroupNormOptions, groupNorm, logSoftmax, logSumExp, softmax } from './ops/norm.js';
export { expand, max, mean, sum, sumTo } from './ops/reduce.js';
export {
  concat,
  flatten,
  gather,
  permute,
  reshape,
  scatterAdd,
  select,
  slice,
  squeeze,
  stack,
  transpose,
  unsqueeze,
} from './ops/shape.js';
export { type BackwardOptions, type DType, type NestedArray, Tensor } from './tensor.js';
