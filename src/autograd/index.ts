/**
 * Reverse-mode automatic differentiation of any order over the tensor core: `backward`/`.grad`, the
 * functional transforms `grad`, `valueAndGrad`, `vjp`, `hvp`, grad-mode scopes and finite-difference checks.
 */
export { backward, type GradientOptions, gradients, zeroGrad } from './engine.js';
export { type FunctionalOptions, type Gradients, grad, hvp, valueAndGrad, vjp } from './functional.js';
export { type GradcheckOptions, type GradcheckResult, gradcheck, gradgradcheck } from './gradcheck.js';
export { enableGrad, isGradEnabled, Node, noGrad, type VjpFunction } from './node.js';
