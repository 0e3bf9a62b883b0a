export { complexLuFactor, complexLuSolve } from './complex-lu.js';
export type { LinearSolverFactory, ShiftedLinearSolver } from './linear-solver.js';
export { denseLinearSolver } from './linear-solver.js';
export { luFactor, luSolve } from './lu.js';
