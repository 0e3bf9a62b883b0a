/**
 * Ordinary differential equation solvers: solveIvp (plain Float64Array states), the stepping layer, explicit
 * Runge–Kutta and Adams methods, and the stiff methods of src/ode/stiff.
 */

export {
  type AdamsOptions,
  adamsMethod,
  explicitAdamsMethod,
  type FixedAdamsOptions,
  implicitAdamsMethod,
} from './adams.js';
export { PidController, type PidControllerOptions, piController } from './controller.js';
export {
  FAILURE_REMEDIES,
  type OdeFailureCode,
  OdeInputError,
  type OdeInputErrorCode,
  OdeSolveError,
} from './errors.js';
export type { OdeEvent } from './events.js';
export { createIntegrator, type IntegratorStepOutcome, OdeIntegrator } from './integrator.js';
export { type DenseSolution, PolynomialPiece } from './interpolants.js';
export {
  type AdaptiveMethodName,
  EXPLICIT_METHODS,
  type FixedStepMethodName,
  METHOD_NAMES,
  type MethodName,
  resolveMethod,
  type StiffMethodName,
} from './methods.js';
export { maxNorm, rmsNorm } from './norms.js';
export type { IntegratorOptions } from './options.js';
export { type RungeKuttaMethodOptions, rungeKuttaMethod } from './runge-kutta.js';
export { type OdeResult, type SolveIvpOptions, type SolveStatus, solveIvp } from './solve-ivp.js';
export {
  type ButcherTableau,
  type DenseOutputSpec,
  defineTableau,
  TableauError,
  type TableauSpec,
} from './tableau.js';
export { BOSH3_TABLEAU } from './tableaus/bosh3.js';
export { DOPRI5_TABLEAU } from './tableaus/dopri5.js';
export { DOPRI8_TABLEAU } from './tableaus/dopri8.js';
export { EULER_TABLEAU } from './tableaus/euler.js';
export { FEHLBERG2_TABLEAU } from './tableaus/fehlberg2.js';
export { HEUN_TABLEAU } from './tableaus/heun.js';
export { HEUN_EULER_TABLEAU } from './tableaus/heun-euler.js';
export { MIDPOINT_TABLEAU } from './tableaus/midpoint.js';
export { RALSTON_TABLEAU } from './tableaus/ralston.js';
export { RK4_TABLEAU } from './tableaus/rk4.js';
export { RK38_TABLEAU } from './tableaus/rk38.js';
export { TSIT5_TABLEAU } from './tableaus/tsit5.js';
export type {
  Dynamics,
  ErrorNorm,
  Interpolant,
  JacobianFn,
  MethodFactory,
  SolverStats,
  StepOutcome,
  Stepper,
  StepperOptions,
  StepSizeController,
} from './types.js';
export { emptyStats } from './types.js';
