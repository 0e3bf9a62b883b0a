/**
 * The safetensors tensor file format (Hugging Face, https://github.com/huggingface/safetensors), the format
 * PyTorch, JAX and Hugging Face checkpoints are exchanged in.
 *
 * Layout: an 8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON, then the byte buffer.
 * The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to the
 * start of the byte buffer) and may hold `"__metadata__"`, a string-to-string map. Tensor data is row-major,
 * little-endian. The format requires the tensors to tile the buffer exactly: no overlaps and no holes.
 *
 * The writer follows the reference implementation's conventions: `__metadata__` first, tensors ordered by
 * element size (largest first, so every tensor is aligned to its element size), and the header padded with
 * spaces so that the buffer starts at a multiple of 8 bytes.
 *
 * The reader validates everything before it returns anything, and every failure is an {@link IoError} whose
 * `code` says what is wrong and whose message names the tensor (and `tensor` holds its name).
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from './atomic.js';
import {
  checkWritable,
  DTYPE_SIZE,
  decodeData,
  encodeData,
  isSafetensorsDtype,
  type SafetensorsData,
  type SafetensorsDtype,
} from './dtypes.js';
import { IoError } from './errors.js';

export type { SafetensorsData, SafetensorsDtype };

/** String-to-string metadata stored under `__metadata__`. */
export type SafetensorsMetadata = Readonly<Record<string, string>>;

/** A tensor to write. `data` must be the typed array of `dtype` (Float64Array for F64, ...). */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: ArrayBufferView;
}

/** A decoded tensor. F16/BF16 data is widened to Float32Array; `dtype` still reports the stored type. */
export interface SafetensorsTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly data: SafetensorsData;
}

/** The content of a safetensors file. `tensors` iterates in the header's order. */
export interface SafetensorsFile {
  readonly tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` map; empty when the file has none. */
  readonly metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';
/** The reference implementation refuses headers above 100 MB; so do we, before allocating anything. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Encodes tensors (and optional metadata) as a safetensors file. */
export function encodeSafetensors(
  entries: readonly SafetensorsEntry[],
  metadata?: SafetensorsMetadata,
): Uint8Array {
  const seen = new Set<string>();
  const sizes: number[] = [];
  for (const entry of entries) {
    const { name, dtype, shape, data } = entry;
    if (typeof name !== 'string') {
      throw new IoError('invalidEntry', `tensor names must be strings, got ${typeof name}`);
    }
    if (name === METADATA_KEY) {
      throw new IoError('invalidEntry', `'${METADATA_KEY}' is reserved and cannot name a tensor`, {
        tensor: name,
      });
    }
    if (seen.has(name)) {
      throw new IoError('invalidEntry', `tensor '${name}' appears twice`, { tensor: name });
    }
    seen.add(name);
    if (!isSafetensorsDtype(dtype)) {
      throw new IoError('unknownDtype', `tensor '${name}': unknown dtype ${JSON.stringify(dtype)}`, {
        tensor: name,
      });
    }
    const count = shapeElements(shape);
    if (count === null) {
      throw new IoError(
        'invalidShape',
        `tensor '${name}': shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
        { tensor: name },
      );
    }
    checkWritable(name, dtype, data);
    const length = (data as unknown as { length: number }).length;
    if (length !== count) {
      throw new IoError(
        'sizeMismatch',
        `tensor '${name}': shape [${shape.join(', ')}] has ${count} elements but data has ${length}`,
        { tensor: name },
      );
    }
    sizes.push(count * DTYPE_SIZE[dtype]);
  }
  const meta = checkMetadata(metadata);

  // Largest elements first (stable), so every tensor starts at a multiple of its element size.
  const order = entries.map((_, i) => i);
  order.sort((a, b) => DTYPE_SIZE[entries[b].dtype] - DTYPE_SIZE[entries[a].dtype] || a - b);
  const header: Record<string, unknown> = {};
  if (meta !== undefined) setOwn(header, METADATA_KEY, meta);
  const offsets: number[] = new Array(entries.length);
  let cursor = 0;
  for (const i of order) {
    const e = entries[i];
    offsets[i] = cursor;
    setOwn(header, e.name, {
      dtype: e.dtype,
      shape: [...e.shape],
      data_offsets: [cursor, cursor + sizes[i]],
    });
    cursor += sizes[i];
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded + cursor);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded % 0x100000000, true);
  view.setUint32(4, Math.floor(padded / 0x100000000), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  const start = 8 + padded;
  for (let i = 0; i < entries.length; i++) {
    encodeData(entries[i].data, out.subarray(start + offsets[i], start + offsets[i] + sizes[i]));
  }
  return out;
}

/** Decodes and validates a safetensors file. Tensor data is copied out of `bytes`. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) {
    throw new IoError(
      'fileTooShort',
      `file has ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`,
    );
  }
  const prefix = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const headerLength = prefix.getUint32(0, true) + prefix.getUint32(4, true) * 0x100000000;
  if (headerLength > bytes.length - 8) {
    throw new IoError(
      'headerOutOfRange',
      `header length ${headerLength} goes past the end of the file (${bytes.length - 8} bytes after the length prefix; truncated file?)`,
    );
  }
  if (headerLength > MAX_HEADER_BYTES) {
    throw new IoError(
      'headerOutOfRange',
      `header length ${headerLength} exceeds the limit of ${MAX_HEADER_BYTES}`,
    );
  }
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    header = JSON.parse(text);
  } catch (error) {
    throw new IoError('headerInvalidJson', `header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new IoError(
      'headerInvalid',
      'header must be a JSON object mapping tensor names to their descriptions',
    );
  }
  const record = header as Record<string, unknown>;
  const metadata = readMetadata(record[METADATA_KEY]);
  const bufferStart = 8 + headerLength;
  const bufferLength = bytes.length - bufferStart;

  interface Layout {
    name: string;
    dtype: SafetensorsDtype;
    shape: number[];
    begin: number;
    end: number;
  }
  const layouts: Layout[] = [];
  for (const [name, info] of Object.entries(record)) {
    if (name === METADATA_KEY) continue;
    const where = { tensor: name };
    if (info === null || typeof info !== 'object' || Array.isArray(info)) {
      throw new IoError('headerInvalid', `tensor '${name}': description must be an object`, where);
    }
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string') {
      throw new IoError('headerInvalid', `tensor '${name}': missing or non-string 'dtype'`, where);
    }
    if (!isSafetensorsDtype(dtype)) {
      throw new IoError(
        'unknownDtype',
        `tensor '${name}': unknown dtype '${dtype}' (known: ${Object.keys(DTYPE_SIZE).join(', ')})`,
        where,
      );
    }
    const count = Array.isArray(shape) ? shapeElements(shape) : null;
    if (count === null) {
      throw new IoError(
        'invalidShape',
        `tensor '${name}': shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
        where,
      );
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new IoError(
        'offsetsOutOfRange',
        `tensor '${name}': data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)}`,
        where,
      );
    }
    const [begin, end] = offsets as number[];
    if (end < begin || end > bufferLength) {
      throw new IoError(
        'offsetsOutOfRange',
        `tensor '${name}': data_offsets [${begin}, ${end}] are outside the ${bufferLength}-byte buffer${end < begin ? ' (end before begin)' : ''}`,
        where,
      );
    }
    const expected = count * DTYPE_SIZE[dtype];
    if (expected !== end - begin) {
      throw new IoError(
        'sizeMismatch',
        `tensor '${name}': shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
        where,
      );
    }
    layouts.push({ name, dtype, shape: [...(shape as number[])], begin, end });
  }

  // The tensors must tile the buffer: sorted by position, each must start where the previous one ended.
  const sorted = [...layouts].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Layout | null = null;
  for (const t of sorted) {
    if (t.begin < cursor) {
      throw new IoError(
        'offsetsOverlap',
        `tensor '${t.name}': bytes [${t.begin}, ${t.end}] overlap tensor '${previous?.name}' at [${previous?.begin}, ${previous?.end}]`,
        { tensor: t.name },
      );
    }
    if (t.begin > cursor) {
      throw new IoError(
        'bufferNotCovered',
        `bytes [${cursor}, ${t.begin}) of the buffer belong to no tensor (gap before tensor '${t.name}')`,
        { tensor: t.name },
      );
    }
    cursor = t.end;
    previous = t;
  }
  if (cursor !== bufferLength) {
    throw new IoError(
      'bufferNotCovered',
      `bytes [${cursor}, ${bufferLength}) at the end of the buffer belong to no tensor`,
      previous === null ? {} : { tensor: previous.name },
    );
  }

  const tensors = new Map<string, SafetensorsTensor>();
  for (const t of layouts) {
    const data = decodeData(t.dtype, bytes.subarray(bufferStart + t.begin, bufferStart + t.end));
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data });
  }
  return { tensors, metadata };
}

/** Writes a safetensors file atomically (see {@link writeFileAtomic}). */
export function saveSafetensors(
  file: string,
  entries: readonly SafetensorsEntry[],
  metadata?: SafetensorsMetadata,
): void {
  writeFileAtomic(file, encodeSafetensors(entries, metadata));
}

/** Reads and validates a safetensors file; errors carry the file's path. */
export function loadSafetensors(file: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(file));
  } catch (error) {
    throw new IoError('readFailed', `cannot read file (${(error as Error).message})`, { path: file });
  }
  try {
    return decodeSafetensors(bytes);
  } catch (error) {
    if (error instanceof IoError) {
      const details = error.tensor === undefined ? { path: file } : { path: file, tensor: error.tensor };
      throw new IoError(error.code, error.message, details);
    }
    throw error;
  }
}

/** Number of elements of a valid shape, or null when `shape` is not a list of non-negative integers. */
function shapeElements(shape: unknown): number | null {
  if (!Array.isArray(shape)) return null;
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return null;
    count *= d;
  }
  return Number.isSafeInteger(count) ? count : null;
}

function checkMetadata(metadata: SafetensorsMetadata | undefined): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new IoError('invalidEntry', 'metadata must be an object mapping strings to strings');
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new IoError(
        'invalidEntry',
        `metadata '${key}' must be a string, got ${typeof value} (serialise other values with JSON.stringify)`,
      );
    }
    setOwn(out, key, value);
  }
  return out;
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new IoError('headerInvalid', `'${METADATA_KEY}' must be an object mapping strings to strings`);
  }
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new IoError(
        'headerInvalid',
        `'${METADATA_KEY}' entry '${key}' must be a string, got ${typeof item}`,
      );
    }
    setOwn(out, key, item);
  }
  return out;
}

/** Defines an own enumerable property, so that a name such as `__proto__` is stored rather than interpreted. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
