/**
 * A chain of modules named '0', '1', ... (as in PyTorch, so parameter names such as `net.0.weight` match).
 *
 * A chain may mix plain layers, called as `forward(x)`, and time-dependent layers, called as `forward(t, x)`.
 * If any member is time-dependent the chain is too, and must be called as `forward(t, x)`; t is then passed
 * to the time-dependent members only.
 */
import type { Tensor } from '../tensor/tensor.js';
import { NnError } from './errors.js';
import { Module } from './module.js';
import type { TimeInput } from './time.js';

/** A module called as `forward(x)`. */
export interface PlainLayer extends Module {
  forward(x: Tensor): Tensor;
}

/** A module called as `forward(t, x)`. */
export interface TimeLayer extends Module {
  readonly timeDependent: true;
  forward(t: TimeInput, x: Tensor): Tensor;
}

export type SequentialMember = PlainLayer | TimeLayer;

export class Sequential extends Module {
  override readonly timeDependent: boolean;
  private readonly members: SequentialMember[];

  constructor(...members: SequentialMember[]) {
    super();
    if (members.length === 0) throw new NnError('invalidArgument', 'Sequential: needs at least one module');
    members.forEach((m, i) => {
      if (!(m instanceof Module) || typeof (m as { forward?: unknown }).forward !== 'function') {
        throw new NnError('invalidArgument', `Sequential: member ${i} is not a module with a forward method`);
      }
      this.addModule(String(i), m);
    });
    this.members = members;
    this.timeDependent = members.some((m) => m.timeDependent);
  }

  get length(): number {
    return this.members.length;
  }

  /** The member at `index`. */
  at(index: number): SequentialMember {
    const m = this.members[index];
    if (m === undefined) {
      throw new NnError(
        'invalidArgument',
        `Sequential.at: index ${index} out of range [0, ${this.members.length})`,
      );
    }
    return m;
  }

  forward(x: Tensor): Tensor;
  forward(t: TimeInput, x: Tensor): Tensor;
  forward(a: TimeInput | Tensor, b?: Tensor): Tensor {
    let t: TimeInput | undefined;
    let x: Tensor;
    if (b === undefined) {
      if (this.timeDependent) {
        throw new NnError(
          'invalidArgument',
          'Sequential.forward: this chain has time-dependent layers; call forward(t, x)',
        );
      }
      x = a as Tensor;
    } else {
      t = a;
      x = b;
    }
    for (const m of this.members) {
      x = m.timeDependent ? (m as TimeLayer).forward(t as TimeInput, x) : (m as PlainLayer).forward(x);
    }
    return x;
  }
}
