/**
 * Modules: layers and models whose parameters live in ONE flat Float64Array.
 *
 * A module declares its parameters (name, shape, initializer) and its child modules when it is constructed.
 * Until `finalize()` each parameter has its own storage, so a module can already be used on its own. Calling
 * `finalize()` on the root of a tree allocates one flat parameter vector θ and one flat gradient vector of the
 * same length, copies the current values into θ, and rebinds every parameter as a leaf tensor whose data is a
 * view into θ and whose gradient accumulates in place into the matching view of the gradient vector
 * (`Tensor.leafView`). From then on an optimizer step on `parameters`, an adjoint solve that writes θ, or a
 * checkpoint restore is immediately seen by every layer, without copies, and backward passes fill
 * `gradients`.
 *
 * Order and names follow PyTorch's `named_parameters()`: a module's own parameters in registration order,
 * then each child's (pre-order), with dotted names such as `net.0.weight`. A subtree's parameters are
 * therefore contiguous in θ, and a child's `parameters` is the matching subarray of its root's vector.
 * Because the names match, parameter files move between this library and PyTorch `state_dict`s.
 *
 * The flat vectors are allocated as resident storage of the matrix-product kernels (`allocResidentFloat64`),
 * so small layers multiply by their weights and accumulate their weight gradients in place. They are views
 * into a shared buffer: use `byteOffset`/`length` (not the whole `buffer`) when handing them to byte-level
 * APIs.
 */
import type { Rng } from '../random/index.js';
import { allocResidentFloat64 } from '../tensor/kernels-wasm.js';
import { Tensor } from '../tensor/tensor.js';
import { NnError } from './errors.js';
import { fanInOut, type Initializer } from './init.js';

/** A named parameter of one module. `tensor` is replaced by a view into θ when the tree is finalized. */
export class Parameter {
  readonly size: number;

  /** @internal */
  constructor(
    /** Local name inside its module (e.g. `weight`). */
    readonly name: string,
    readonly shape: readonly number[],
    /** The current leaf tensor holding the values; always read it through this field. */
    public tensor: Tensor,
  ) {
    this.size = tensor.size;
  }
}

/** The fans an initializer sees; by default derived from the parameter's own shape. */
export interface ParameterInitOptions {
  readonly fanIn?: number;
  readonly fanOut?: number;
}

interface Binding {
  readonly root: Module;
  readonly parameters: Float64Array;
  readonly gradients: Float64Array;
  /** The subtree's parameters in θ order, cached so the training loop's zeroGrad() allocates nothing. */
  readonly list: readonly Parameter[];
}

export abstract class Module {
  /** True for layers whose forward is `forward(t, x)`; plain layers use `forward(x)`. */
  readonly timeDependent: boolean = false;
  private readonly ownParameters: Parameter[] = [];
  private readonly childModules: [string, Module][] = [];
  private binding: Binding | null = null;

  /**
   * Declares a parameter of shape `shape`, initialised now by `init` from `rng`. Initializers see the fans of
   * `shape` (PyTorch convention) unless `fans` overrides them (a bias uses its weight's fans).
   */
  protected addParameter(
    name: string,
    shape: readonly number[],
    init: Initializer,
    rng: Rng,
    fanOverride: ParameterInitOptions = {},
  ): Parameter {
    this.checkNewName(name);
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) {
        throw new NnError(
          'invalidArgument',
          `${this.constructor.name}: parameter '${name}' has invalid shape [${shape.join(', ')}]`,
        );
      }
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(size);
    const own = fanInOut(shape);
    init(data, rng, {
      shape,
      fanIn: fanOverride.fanIn ?? own.fanIn,
      fanOut: fanOverride.fanOut ?? own.fanOut,
    });
    const p = new Parameter(name, [...shape], Tensor.leafView(data, [...shape], new Float64Array(size)));
    this.ownParameters.push(p);
    return p;
  }

  /** Registers `module` as a child named `name` and returns it. */
  protected addModule<M extends Module>(name: string, module: M): M {
    this.checkNewName(name);
    if (!(module instanceof Module)) {
      throw new NnError('invalidArgument', `${this.constructor.name}: child '${name}' is not a Module`);
    }
    this.childModules.push([name, module]);
    return module;
  }

  private checkNewName(name: string): void {
    if (this.binding !== null) {
      throw new NnError(
        'alreadyBound',
        `${this.constructor.name}: cannot add '${name}' after finalize(); declare parameters and children in the constructor`,
      );
    }
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new NnError(
        'invalidArgument',
        `${this.constructor.name}: name '${name}' must be non-empty without '.'`,
      );
    }
    if (this.ownParameters.some((p) => p.name === name) || this.childModules.some(([n]) => n === name)) {
      throw new NnError('duplicateName', `${this.constructor.name}: '${name}' is declared twice`, name);
    }
  }

  /** The direct children with their names. */
  children(): readonly (readonly [string, Module])[] {
    return this.childModules;
  }

  /** This module and all descendants, pre-order, with dotted names ('' for this module). */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (prefix: string, m: Module) => {
      if (seen.has(m)) {
        throw new NnError(
          'sharedModule',
          `module '${prefix}' (${m.constructor.name}) appears twice in the tree; parameters cannot be shared between positions`,
        );
      }
      seen.add(m);
      out.push([prefix, m]);
      for (const [name, child] of m.childModules) visit(prefix === '' ? name : `${prefix}.${name}`, child);
    };
    visit('', this);
    return out;
  }

  /** Every parameter as [dotted name, leaf tensor], in θ order (PyTorch `named_parameters()` order). */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const p of m.ownParameters) out.push([prefix === '' ? p.name : `${prefix}.${p.name}`, p.tensor]);
    }
    return out;
  }

  /** The parameter tensors in θ order. */
  parameterTensors(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Exact number of scalar parameters (the length of θ). */
  get numParameters(): number {
    let n = 0;
    for (const [, m] of this.namedModules()) for (const p of m.ownParameters) n += p.size;
    return n;
  }

  /** Whether this module's parameters are views into a flat vector (its own or a parent's). */
  get isFinalized(): boolean {
    return this.binding !== null;
  }

  /**
   * Allocates the flat parameter and gradient vectors for this tree and binds every parameter to views into
   * them (values and current gradients are copied over). Returns `this`. Calling it again on the same root is
   * a no-op; calling it on a module that belongs to a finalized parent throws `alreadyBound`. A finalized
   * module may be placed inside a new parent: finalizing the parent rebinds it into the parent's vector.
   */
  finalize(): this {
    if (this.binding !== null) {
      if (this.binding.root === this) return this;
      throw new NnError(
        'alreadyBound',
        `${this.constructor.name}: this module is part of a finalized ${this.binding.root.constructor.name}; use that module's parameters`,
      );
    }
    const modules = this.namedModules();
    const total = this.numParameters;
    // Resident storage lets the small-product kernels read weights and accumulate weight gradients in place.
    const parameters = allocResidentFloat64(total);
    const gradients = allocResidentFloat64(total);
    const starts = new Map<Module, number>();
    const all: Parameter[] = [];
    let offset = 0;
    for (const [, m] of modules) {
      starts.set(m, offset);
      for (const p of m.ownParameters) {
        all.push(p);
        const values = parameters.subarray(offset, offset + p.size);
        const grads = gradients.subarray(offset, offset + p.size);
        values.set(p.tensor.data);
        const previous = p.tensor.gradBuffer ?? p.tensor.grad?.data;
        if (previous) grads.set(previous);
        p.tensor = Tensor.leafView(values, p.shape, grads);
        offset += p.size;
      }
    }
    for (const [, m] of modules) {
      const start = starts.get(m) as number;
      const end = start + m.numParameters;
      m.binding = {
        root: this,
        parameters: m === this ? parameters : parameters.subarray(start, end),
        gradients: m === this ? gradients : gradients.subarray(start, end),
        list: m === this ? all : m.namedModules().flatMap(([, d]) => d.ownParameters),
      };
    }
    return this;
  }

  private bound(what: string): Binding {
    if (this.binding === null) {
      throw new NnError(
        'notFinalized',
        `${this.constructor.name}.${what}: call finalize() on the root module first; it allocates the flat vectors`,
      );
    }
    return this.binding;
  }

  /** The flat parameter vector θ (a view: writing it changes the layers). Requires `finalize()`. */
  get parameters(): Float64Array {
    return this.bound('parameters').parameters;
  }

  /** The flat gradient vector, filled by backward passes. Requires `finalize()`. */
  get gradients(): Float64Array {
    return this.bound('gradients').gradients;
  }

  /** Sets every parameter gradient to zero (keeping `.grad` as views into the flat gradient vector). */
  zeroGrad(): void {
    if (this.binding !== null) {
      for (const p of this.binding.list) p.tensor.zeroGrad();
      return;
    }
    for (const [, m] of this.namedModules()) for (const p of m.ownParameters) p.tensor.zeroGrad();
  }
}
