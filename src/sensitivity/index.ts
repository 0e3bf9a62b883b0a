/**
 * Gradients through ODE solves: odeint and its sensitivity methods ('direct', 'checkpoint', 'adjoint').
 */
export { SensitivityError, type SensitivityErrorCode } from './errors.js';
export { type FlatDynamics, type FlatDynamicsProvider, hasFlatDynamics } from './flat-dynamics.js';
export { type MlpActivation, MlpField, type MlpFieldOptions, type MlpLayer } from './mlp-field.js';
export { GRADIENT_MODES, type GradientMode, type OdeintOptions, odeint } from './odeint.js';
export { type BackwardStats, createOdeStats, type OdeStats } from './stats.js';
export type { OdeFunction, TensorDynamics } from './vector-field.js';
