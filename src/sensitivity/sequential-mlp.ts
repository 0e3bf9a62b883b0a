/**
 * Recognises a plain MLP built from nn layers — a {@link Sequential} of {@link Linear} layers (with or without
 * bias), each optionally followed by one {@link Tanh} or {@link Sigmoid} — and gives odeint its fused flat
 * kernels ({@link MlpField}), so that such a model needs no `flatDynamics` method of its own.
 *
 * Only the exact classes count (a subclass may override `forward`); anything else, a time-dependent chain, or
 * widths that do not chain up to the state's last dimension leaves the module on the tensor path, which then
 * reports any shape error in its own terms.
 */
import { Sigmoid, Tanh } from '../nn/activations.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import type { Tensor } from '../tensor/tensor.js';
import { type MlpActivation, MlpField, type MlpLayer } from './mlp-field.js';

function isExactly(value: unknown, cls: { prototype: unknown }): boolean {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === cls.prototype;
}

function flatStorage(tensor: Tensor): boolean {
  return tensor.isContiguous && tensor.data instanceof Float64Array;
}

/** Appends the members of a chain to `out`, with the members of nested plain Sequentials spliced in. */
function flatten(chain: Sequential, out: Module[]): void {
  for (let i = 0; i < chain.length; i++) {
    const m = chain.at(i);
    if (isExactly(m, Sequential)) flatten(m as Sequential, out);
    else out.push(m);
  }
}

/**
 * An {@link MlpField} for `module` and a state of shape `shape` ([..., in]) when the module is a plain
 * Sequential MLP whose last layer maps back to `in` features, else null.
 */
export function mlpFieldFor(module: Module, shape: readonly number[]): MlpField | null {
  if (!isExactly(module, Sequential) || module.timeDependent || shape.length === 0) return null;
  const members: Module[] = [];
  flatten(module as Sequential, members);
  const layers: MlpLayer[] = [];
  let width = shape[shape.length - 1];
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    if (!isExactly(m, Linear)) return null;
    const linear = m as Linear;
    if (linear.inFeatures !== width) return null;
    if (!flatStorage(linear.weight) || (linear.bias !== null && !flatStorage(linear.bias))) return null;
    let activation: MlpActivation = 'identity';
    const next = members[i + 1];
    if (isExactly(next, Tanh)) activation = 'tanh';
    else if (isExactly(next, Sigmoid)) activation = 'sigmoid';
    if (activation !== 'identity') i++;
    layers.push({ weight: linear.weight, bias: linear.bias, activation });
    width = linear.outFeatures;
  }
  if (layers.length === 0 || width !== shape[shape.length - 1]) return null;
  return new MlpField({ shape, parameters: module.parameterTensors(), layers });
}
