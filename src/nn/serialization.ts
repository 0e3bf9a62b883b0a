/**
 * Saving and loading a model's parameters as safetensors, under PyTorch-compatible dotted names.
 *
 * Files are written as F64 by default (exact), or as F32 on request (for exchange with tools that expect
 * single precision; values are rounded to nearest). Loading accepts F64 and F32 tensors; F32 values are
 * widened to float64 exactly, so a PyTorch float32 `state_dict` saved with `safetensors.torch.save_file`
 * loads as is. Every name, shape and dtype is validated before any value is written, so a refused file leaves
 * the model untouched; the error names the first mismatch in parameter order (then the first unexpected
 * name).
 */

import { writeFileAtomic } from '../io/atomic.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  type SafetensorsEntry,
  type SafetensorsFile,
  type SafetensorsMetadata,
} from '../io/safetensors.js';
import { NnError } from './errors.js';
import type { Module } from './module.js';

export interface SaveParametersOptions {
  /** Element type in the file (default 'F64'). */
  readonly dtype?: 'F64' | 'F32';
  /** String metadata stored in the file's `__metadata__`. */
  readonly metadata?: SafetensorsMetadata;
}

/** One safetensors entry per parameter, in θ order (F64 entries are views, not copies). */
export function parameterEntries(model: Module, dtype: 'F64' | 'F32' = 'F64'): SafetensorsEntry[] {
  if (dtype !== 'F64' && dtype !== 'F32') {
    throw new NnError('invalidArgument', `parameter files are F64 or F32, got dtype '${String(dtype)}'`);
  }
  return model.namedParameters().map(([name, t]) => ({
    name,
    dtype,
    shape: [...t.shape],
    data: dtype === 'F64' ? t.data : Float32Array.from(t.data),
  }));
}

/** The model's parameters as safetensors bytes. */
export function encodeParameters(model: Module, options: SaveParametersOptions = {}): Uint8Array {
  return encodeSafetensors(parameterEntries(model, options.dtype ?? 'F64'), options.metadata);
}

/** Writes the model's parameters to `file` atomically. */
export function saveParameters(model: Module, file: string, options: SaveParametersOptions = {}): void {
  writeFileAtomic(file, encodeParameters(model, options));
}

/**
 * Copies the tensors of a decoded safetensors file into the model's parameters, after validating all of
 * them. `source` names the file in error messages.
 * @returns the file's metadata.
 */
export function applyParameters(
  model: Module,
  file: SafetensorsFile,
  source = 'parameter file',
): Record<string, string> {
  const params = model.namedParameters();
  const known = new Set<string>();
  for (const [name, t] of params) {
    known.add(name);
    const stored = file.tensors.get(name);
    if (stored === undefined) {
      throw new NnError(
        'missingParameter',
        `${source}: has no tensor '${name}' (model parameter of shape [${t.shape.join(', ')}]); file has [${[...file.tensors.keys()].join(', ')}]`,
        name,
      );
    }
    if (stored.dtype !== 'F64' && stored.dtype !== 'F32') {
      throw new NnError(
        'dtypeMismatch',
        `${source}: tensor '${name}' is ${stored.dtype}; only F64 and F32 parameter files can be loaded`,
        name,
      );
    }
    const same = stored.shape.length === t.shape.length && stored.shape.every((d, i) => d === t.shape[i]);
    if (!same) {
      throw new NnError(
        'shapeMismatch',
        `${source}: tensor '${name}' has shape [${stored.shape.join(', ')}] but the model's parameter is [${t.shape.join(', ')}]`,
        name,
      );
    }
  }
  for (const name of file.tensors.keys()) {
    if (!known.has(name)) {
      throw new NnError(
        'unexpectedParameter',
        `${source}: tensor '${name}' is not a parameter of the model (${params.length} parameters: ${params
          .slice(0, 8)
          .map(([n]) => n)
          .join(', ')}${params.length > 8 ? ', ...' : ''})`,
        name,
      );
    }
  }
  for (const [name, t] of params) {
    // F32 → F64 widening in TypedArray.set is exact.
    t.data.set((file.tensors.get(name) as { data: Float64Array | Float32Array }).data);
  }
  return file.metadata;
}

/** Loads parameters from safetensors bytes (see {@link applyParameters}). */
export function decodeParameters(model: Module, bytes: Uint8Array, source?: string): Record<string, string> {
  return applyParameters(model, decodeSafetensors(bytes), source);
}

/**
 * Loads parameters from a safetensors file written by {@link saveParameters} or by PyTorch
 * (`safetensors.torch.save_file(model.state_dict(), path)`). Refused files leave the model untouched.
 * @returns the file's metadata.
 */
export function loadParameters(model: Module, file: string): Record<string, string> {
  return applyParameters(model, loadSafetensors(file), file);
}
