/**
 * Splits a JSON-like state that may contain typed arrays (an optimizer's moment vectors, say) into plain
 * JSON plus a list of named tensors, and joins them back.
 *
 * Large numeric vectors go into safetensors as raw little-endian bytes, which is exact and compact; the JSON
 * keeps a `{ "$tensor": name }` reference in their place. Plain numbers stay in the JSON: JSON.stringify
 * prints the shortest decimal that round-trips a double, so they are restored bit for bit too, except for
 * NaN and ±Infinity, which JSON cannot hold and which are therefore encoded as `{ "$number": "NaN" }`.
 */
import { RunError } from './errors.js';

export interface TensorEntry {
  readonly name: string;
  readonly dtype: 'F64' | 'F32';
  readonly shape: readonly number[];
  readonly data: Float64Array | Float32Array;
}

export interface EncodedState {
  readonly json: unknown;
  readonly tensors: TensorEntry[];
}

const TENSOR_KEY = '$tensor';
const NUMBER_KEY = '$number';

/** Replaces every Float64Array/Float32Array in `value` by a reference to a tensor named `<prefix><path>`. */
export function encodeState(value: unknown, prefix: string): EncodedState {
  const tensors: TensorEntry[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (v instanceof Float64Array || v instanceof Float32Array) {
      const name = `${prefix}${path}`;
      tensors.push({ name, dtype: v instanceof Float64Array ? 'F64' : 'F32', shape: [v.length], data: v });
      return { [TENSOR_KEY]: name };
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { [NUMBER_KEY]: String(v) };
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}.${i}`));
    if (ArrayBuffer.isView(v)) {
      throw new RunError(
        'invalidArgument',
        `state at '${path || '.'}' is a ${v.constructor.name}; only Float64Array and Float32Array can be saved`,
      );
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = walk(item, path ? `${path}.${k}` : k);
      return out;
    }
    return v;
  };
  return { json: walk(value, ''), tensors };
}

/** Inverse of {@link encodeState}: resolves `{ "$tensor": name }` references against `tensors`. */
export function decodeState(
  json: unknown,
  tensors: ReadonlyMap<string, { data: Float64Array | Float32Array }>,
  file: string,
): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const rec = v as Record<string, unknown>;
      const keys = Object.keys(rec);
      if (keys.length === 1 && typeof rec[TENSOR_KEY] === 'string') {
        const name = rec[TENSOR_KEY] as string;
        const t = tensors.get(name);
        if (!t)
          throw new RunError(
            'checkpointCorrupt',
            `${file}: tensor '${name}' is referenced but missing`,
            file,
          );
        // A copy, so the caller owns its state and the decoded buffer can be released.
        return t.data.slice();
      }
      if (keys.length === 1 && typeof rec[NUMBER_KEY] === 'string') return Number(rec[NUMBER_KEY]);
      const out: Record<string, unknown> = {};
      for (const k of keys) out[k] = walk(rec[k]);
      return out;
    }
    return v;
  };
  return walk(json);
}
