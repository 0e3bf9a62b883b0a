/**
 * The reverse-mode engine.
 *
 * A backward pass (1) sorts the recorded graph below the root topologically with an iterative depth-first
 * search, stamping visited tensors with an integer instead of using a Set, (2) walks that list in reverse
 * order, calling each node's VJP on the cotangent accumulated in the tensor's `_acc` slot and adding the
 * results into its inputs' slots, and (3) hands the cotangents of leaves to `.grad` (or to the requested
 * targets, for {@link gradients}).
 *
 * Grad mode during the walk equals `createGraph`: with it on, the VJPs' own operations are recorded and the
 * gradients are differentiable tensors; with it off, nothing is recorded and hot VJPs take fused kernels.
 * Without `retainGraph`, each node is marked released after use; reaching a released node again throws
 * GRAPH_RELEASED before any gradient is touched, because the check happens during the sort.
 */
import { formatShape, TensorError } from '../tensor/errors.js';
import { axpyKernel } from '../tensor/kernels.js';
import { add } from '../tensor/ops/elementwise.js';
import { sameShape } from '../tensor/shape.js';
import { allocLike, Tensor } from '../tensor/tensor.js';
import { gradMode } from './node.js';

/** Options of {@link backward} and {@link gradients}. */
export interface GradientOptions {
  /** Record the backward pass so the gradients are themselves differentiable. Default false. */
  readonly createGraph?: boolean;
  /** Keep the graph for further backward passes. Default: equal to `createGraph`. */
  readonly retainGraph?: boolean;
}

let stampCounter = 0;

function sortGraph(root: Tensor): Tensor[] {
  const visited = ++stampCounter;
  const order: Tensor[] = [];
  const stack: Tensor[] = [root];
  const pos: number[] = [0];
  root._mark = visited;
  checkReleased(root);
  while (stack.length > 0) {
    const top = stack.length - 1;
    const t = stack[top];
    const node = t.node;
    const k = pos[top];
    if (node !== null && k < node.inputs.length) {
      pos[top] = k + 1;
      const inp = node.inputs[k];
      if (inp.requiresGrad && inp._mark !== visited) {
        inp._mark = visited;
        checkReleased(inp);
        stack.push(inp);
        pos.push(0);
      }
    } else {
      stack.pop();
      pos.pop();
      order.push(t);
    }
  }
  return order;
}

function checkReleased(t: Tensor): void {
  const node = t.node;
  if (node?.released) {
    throw new TensorError(
      'GRAPH_RELEASED',
      'backward',
      `trying to backward through the graph a second time: the '${node.op}' node producing ${formatShape(t.shape)} was released by an earlier backward pass; pass { retainGraph: true } to the first backward if you need to go through the graph again`,
    );
  }
}

function makeSeed(op: string, root: Tensor, seed: Tensor | null): Tensor {
  if (seed === null) {
    if (root.size !== 1) {
      throw new TensorError(
        'NON_SCALAR_BACKWARD',
        op,
        `the output has shape ${formatShape(root.shape)}; a seed gradient of that shape is required for non-scalar outputs`,
      );
    }
    const d = allocLike(root._data, 1);
    d[0] = 1;
    return new Tensor(d, root.shape);
  }
  if (!sameShape(seed.shape, root.shape)) {
    throw new TensorError(
      'SHAPE_MISMATCH',
      op,
      `seed gradient ${formatShape(seed.shape)} does not match the output shape ${formatShape(root.shape)}`,
    );
  }
  if (seed._data.constructor !== root._data.constructor) {
    throw new TensorError(
      'DTYPE_MISMATCH',
      op,
      `seed gradient is ${seed.dtype} but the output is ${root.dtype}`,
    );
  }
  return seed;
}

function accumulateLeaf(t: Tensor, g: Tensor, createGraph: boolean): void {
  const buf = t.gradBuffer;
  if (buf !== null) {
    axpyKernel(1, g.data, buf, t.size);
    if (createGraph) {
      t.grad = t.grad !== null && t.grad._data !== buf ? add(t.grad, g) : g;
    } else if (t.grad === null || t.grad.requiresGrad) {
      t.grad = new Tensor(buf, t.shape);
    }
    return;
  }
  if (createGraph) {
    t.grad = t.grad === null ? g : add(t.grad, g);
    return;
  }
  const prev = t.grad;
  if (prev === null) {
    // Copy: g may alias another tensor's storage (add's VJP passes the cotangent through unchanged).
    t.grad = new Tensor(g.data.slice(), t.shape);
  } else if (prev.requiresGrad || prev.node !== null) {
    const d = prev.data.slice();
    axpyKernel(1, g.data, d, t.size);
    t.grad = new Tensor(d, t.shape);
  } else {
    axpyKernel(1, g.data, prev.data, t.size);
  }
}

/**
 * Core walk. With `targets === null`, gradients go to the `.grad` of leaves; otherwise the cotangents of the
 * targets are returned (zeros for targets the root does not depend on) and `.grad` is left alone.
 */
function run(
  root: Tensor,
  g0: Tensor,
  createGraph: boolean,
  retainGraph: boolean,
  targets: readonly Tensor[] | null,
) {
  const order = sortGraph(root);
  const len = order.length;
  // Re-stamp with order indices so that "is this input needed" is an array lookup.
  const base = ++stampCounter;
  stampCounter += len;
  for (let i = 0; i < len; i++) order[i]._mark = base + i;
  let needed: Uint8Array | null = null;
  if (targets !== null) {
    // Only nodes on a path from a target to the root need their VJP run.
    needed = new Uint8Array(len);
    for (const t of targets) {
      const j = t._mark - base;
      if (j >= 0 && j < len && order[j] === t) needed[j] = 1;
    }
    for (let i = 0; i < len; i++) {
      if (needed[i] === 1) continue;
      const node = order[i].node;
      if (node === null) continue;
      const ins = node.inputs;
      for (let k = 0; k < ins.length; k++) {
        const j = ins[k]._mark - base;
        if (j >= 0 && j < len && needed[j] === 1 && order[j] === ins[k]) {
          needed[i] = 1;
          break;
        }
      }
    }
  }
  const prevMode = gradMode.enabled;
  const prevInto = gradMode.intoLeaves;
  gradMode.enabled = createGraph;
  gradMode.intoLeaves = targets === null && !createGraph;
  const results: Tensor[] = [];
  try {
    root._acc = g0;
    for (let i = len - 1; i >= 0; i--) {
      const t = order[i];
      const g = t._acc;
      if (g === null || (needed !== null && needed[i] === 0)) continue;
      const node = t.node;
      if (node === null) {
        if (targets === null) accumulateLeaf(t, g, createGraph);
        continue;
      }
      const grads = node.vjp(node, g);
      const ins = node.inputs;
      for (let k = 0; k < ins.length; k++) {
        const gi = grads[k];
        const inp = ins[k];
        if (gi === null || gi === undefined || !inp.requiresGrad) continue;
        if (needed !== null) {
          const j = inp._mark - base;
          if (needed[j] === 0) continue;
        }
        inp._acc = inp._acc === null ? gi : add(inp._acc, gi);
      }
      if (!retainGraph) {
        node.released = true;
        node.saved = null;
      }
    }
    if (targets !== null) {
      for (const t of targets) {
        const acc = t._acc;
        if (acc !== null) results.push(acc);
        else results.push(new Tensor(allocLike(t._data, t.size), t.shape));
      }
    }
  } finally {
    gradMode.enabled = prevMode;
    gradMode.intoLeaves = prevInto;
    for (let i = 0; i < len; i++) order[i]._acc = null;
  }
  return results;
}

/**
 * Accumulates d(root)/d(leaf) · seed into `.grad` of every leaf below `root` that requires grad.
 * `seed` defaults to 1 and is required when `root` is not a one-element tensor.
 */
export function backward(root: Tensor, seed: Tensor | null = null, options?: GradientOptions): void {
  if (!root.requiresGrad) {
    throw new TensorError(
      'NOT_DIFFERENTIABLE',
      'backward',
      `the tensor ${formatShape(root.shape)} does not require grad: no input of the computation had requiresGrad set, or it was computed under noGrad`,
    );
  }
  const createGraph = options?.createGraph ?? false;
  const retainGraph = options?.retainGraph ?? createGraph;
  run(root, makeSeed('backward', root, seed), createGraph, retainGraph, null);
}

/**
 * The gradients of `output` (weighted by `seed`, default 1 for one-element outputs) with respect to each of
 * `inputs`, returned rather than accumulated into `.grad`. Inputs the output does not depend on get zeros.
 * With `createGraph` the results are differentiable (for second and higher derivatives).
 */
export function gradients(
  output: Tensor,
  inputs: readonly Tensor[],
  seed: Tensor | null = null,
  options?: GradientOptions,
): Tensor[] {
  const g0 = makeSeed('gradients', output, seed);
  if (!output.requiresGrad) return inputs.map((t) => new Tensor(allocLike(t._data, t.size), t.shape));
  const createGraph = options?.createGraph ?? false;
  const retainGraph = options?.retainGraph ?? createGraph;
  return run(output, g0, createGraph, retainGraph, inputs);
}

/** Clears the gradients of the given tensors (zero-filling their `gradBuffer` where present). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) t.zeroGrad();
}
