/**
 * The safetensors element types, their sizes, and the conversions between little-endian bytes and typed
 * arrays.
 *
 * Bytes are decoded into a fresh, aligned typed array: on little-endian hosts (all current JavaScript
 * platforms) by a byte copy, elsewhere through a DataView. A copy is needed anyway because tensors inside a
 * file are not necessarily aligned to their element size relative to the file's buffer, and because the caller
 * should own the result independently of the file's bytes.
 */
import { IoError } from './errors.js';

/** Element types defined by the safetensors format. */
export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

/**
 * Decoded tensor data. F16 and BF16 are widened to Float32Array (exactly: every half and bfloat16 value is a
 * float32 value); BOOL is a Uint8Array of 0/1; 64-bit integers are BigInt arrays.
 */
export type SafetensorsData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Readonly<Record<SafetensorsDtype, number>> = Object.freeze({
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
});

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_SIZE, value);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies `bytes` into a new ArrayBuffer (aligned at 0). */
function copyBuffer(bytes: Uint8Array): ArrayBuffer {
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

/** Decodes little-endian `bytes` (whose length is a multiple of the element size) as `dtype`. */
export function decodeData(dtype: SafetensorsDtype, bytes: Uint8Array): SafetensorsData {
  const n = bytes.length / DTYPE_SIZE[dtype];
  switch (dtype) {
    case 'F16':
      return halfToFloat32(bytes, n);
    case 'BF16':
      return bfloat16ToFloat32(bytes, n);
    case 'U8':
    case 'BOOL':
      return bytes.slice();
    case 'I8':
      return new Int8Array(copyBuffer(bytes));
  }
  if (LITTLE_ENDIAN_HOST) {
    const buffer = copyBuffer(bytes);
    switch (dtype) {
      case 'F64':
        return new Float64Array(buffer);
      case 'F32':
        return new Float32Array(buffer);
      case 'I64':
        return new BigInt64Array(buffer);
      case 'U64':
        return new BigUint64Array(buffer);
      case 'I32':
        return new Int32Array(buffer);
      case 'U32':
        return new Uint32Array(buffer);
      case 'I16':
        return new Int16Array(buffer);
      case 'U16':
        return new Uint16Array(buffer);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F64':
      return Float64Array.from({ length: n }, (_, i) => view.getFloat64(8 * i, true));
    case 'F32':
      return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
    case 'I64':
      return BigInt64Array.from({ length: n }, (_, i) => view.getBigInt64(8 * i, true));
    case 'U64':
      return BigUint64Array.from({ length: n }, (_, i) => view.getBigUint64(8 * i, true));
    case 'I32':
      return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
    case 'U32':
      return Uint32Array.from({ length: n }, (_, i) => view.getUint32(4 * i, true));
    case 'I16':
      return Int16Array.from({ length: n }, (_, i) => view.getInt16(2 * i, true));
    default:
      return Uint16Array.from({ length: n }, (_, i) => view.getUint16(2 * i, true));
  }
}

type TypedArrayClass = abstract new (...args: never[]) => ArrayBufferView;

/** The typed-array class each writable dtype must be given as (null: not writable). */
const WRITE_TYPES: Readonly<Record<SafetensorsDtype, TypedArrayClass | null>> = {
  F64: Float64Array,
  F32: Float32Array,
  F16: null,
  BF16: null,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U64: BigUint64Array,
  U32: Uint32Array,
  U16: Uint16Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
};

/**
 * Checks that `data` is the typed array that `dtype` is written from (F16/BF16 cannot be written: the library
 * computes in float64/float32 and would have to round). Throws an `invalidEntry` error naming the tensor.
 */
export function checkWritable(name: string, dtype: SafetensorsDtype, data: unknown): void {
  const expected = WRITE_TYPES[dtype];
  if (expected === null) {
    throw new IoError(
      'invalidEntry',
      `tensor '${name}': writing dtype ${dtype} is not supported (use F32 or F64)`,
      {
        tensor: name,
      },
    );
  }
  if (!(data instanceof expected)) {
    const got =
      data === null || typeof data !== 'object' ? typeof data : (data.constructor?.name ?? 'object');
    throw new IoError(
      'invalidEntry',
      `tensor '${name}': dtype ${dtype} must be given as a ${expected.name}, got ${got}`,
      { tensor: name },
    );
  }
  if (dtype === 'BOOL') {
    const u8 = data as Uint8Array;
    for (let i = 0; i < u8.length; i++) {
      if (u8[i] > 1) {
        throw new IoError(
          'invalidEntry',
          `tensor '${name}': BOOL values must be 0 or 1, got ${u8[i]} at ${i}`,
          {
            tensor: name,
          },
        );
      }
    }
  }
}

/** Writes `data` as little-endian bytes into `out` (whose length is data.length × element size). */
export function encodeData(data: ArrayBufferView, out: Uint8Array): void {
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (data instanceof Float64Array)
    data.forEach((x, i) => {
      view.setFloat64(8 * i, x, true);
    });
  else if (data instanceof Float32Array)
    data.forEach((x, i) => {
      view.setFloat32(4 * i, x, true);
    });
  else if (data instanceof BigInt64Array)
    data.forEach((x, i) => {
      view.setBigInt64(8 * i, x, true);
    });
  else if (data instanceof BigUint64Array)
    data.forEach((x, i) => {
      view.setBigUint64(8 * i, x, true);
    });
  else if (data instanceof Int32Array)
    data.forEach((x, i) => {
      view.setInt32(4 * i, x, true);
    });
  else if (data instanceof Uint32Array)
    data.forEach((x, i) => {
      view.setUint32(4 * i, x, true);
    });
  else if (data instanceof Int16Array)
    data.forEach((x, i) => {
      view.setInt16(2 * i, x, true);
    });
  else if (data instanceof Uint16Array)
    data.forEach((x, i) => {
      view.setUint16(2 * i, x, true);
    });
  else out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/**
 * IEEE 754 binary16 → float32. Subnormals, infinities and NaN are handled; every half value is exactly
 * representable in float32.
 */
function halfToFloat32(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const h = bytes[2 * i] | (bytes[2 * i + 1] << 8);
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) out[i] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) out[i] = mantissa === 0 ? sign * Infinity : Number.NaN;
    else out[i] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/** bfloat16 is the upper half of a float32, so widening is a 16-bit shift of the bit pattern. */
function bfloat16ToFloat32(bytes: Uint8Array, n: number): Float32Array {
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
  return new Float32Array(bits.buffer);
}
