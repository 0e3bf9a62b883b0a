import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  IoError,
  loadSafetensors,
  type SafetensorsEntry,
  saveSafetensors,
  writeFileAtomic,
} from '../src/io/index.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'neuralode-st-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** Builds a file byte by byte: length prefix, header text (padded with spaces to `pad`), raw buffer. */
function rawFile(
  header: string,
  buffer: Uint8Array,
  options: { pad?: number; length?: number } = {},
): Uint8Array {
  const text = new TextEncoder().encode(header);
  const headerLength =
    options.pad === undefined ? text.length : Math.ceil(text.length / options.pad) * options.pad;
  const out = new Uint8Array(8 + headerLength + buffer.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, options.length ?? headerLength, true);
  out.set(text, 8);
  out.fill(0x20, 8 + text.length, 8 + headerLength);
  out.set(buffer, 8 + headerLength);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    view.setFloat32(4 * i, v, true);
  });
  return out;
}

function errorOf(f: () => unknown): IoError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(IoError);
    return e as IoError;
  }
  throw new Error('expected an IoError');
}

describe('safetensors round trip', () => {
  it('keeps names, shapes, dtypes, metadata and every bit of the data', () => {
    const w = Float64Array.from([1.5, -0, Number.NaN, 1e-310, Math.PI, -Infinity]);
    const entries: SafetensorsEntry[] = [
      { name: 'small', dtype: 'F32', shape: [3], data: Float32Array.from([0.1, 2, -3]) },
      { name: 'net.0.weight', dtype: 'F64', shape: [2, 3], data: w },
      { name: 'scalar', dtype: 'F64', shape: [], data: Float64Array.from([7]) },
      { name: 'empty', dtype: 'F64', shape: [0, 4], data: new Float64Array(0) },
      { name: 'steps', dtype: 'I64', shape: [2], data: BigInt64Array.from([-5n, 1n << 40n]) },
      { name: 'mask', dtype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
      { name: 'idx', dtype: 'I32', shape: [1], data: Int32Array.from([-7]) },
    ];
    const bytes = encodeSafetensors(entries, { format: 'pt', note: 'ünïcode' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(Object.keys(header)[0]).toBe('__metadata__');
    // Largest elements first, so each tensor is aligned to its element size.
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const { dtype, data_offsets: offsets } = info as { dtype: string; data_offsets: number[] };
      const size = { F64: 8, I64: 8, F32: 4, I32: 4, BOOL: 1 }[dtype] as number;
      expect(offsets[0] % size).toBe(0);
    }

    const decoded = decodeSafetensors(bytes);
    expect(decoded.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect([...decoded.tensors.keys()].sort()).toEqual(entries.map((e) => e.name).sort());
    for (const e of entries) {
      const t = decoded.tensors.get(e.name)!;
      expect(t.dtype).toBe(e.dtype);
      expect(t.shape).toEqual(e.shape);
      expect(t.data.constructor).toBe(e.data.constructor);
      expect(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).toEqual(
        new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength),
      );
    }
  });

  it('an empty file (no tensors, no metadata) round-trips', () => {
    const decoded = decodeSafetensors(encodeSafetensors([]));
    expect(decoded.tensors.size).toBe(0);
    expect(decoded.metadata).toEqual({});
  });

  it('saves atomically and loads from disk', () => {
    const file = path.join(tmpRoot, 'model.safetensors');
    saveSafetensors(file, [{ name: 'theta', dtype: 'F64', shape: [2], data: Float64Array.from([1, 2]) }], {
      step: '3',
    });
    const loaded = loadSafetensors(file);
    expect(Array.from(loaded.tensors.get('theta')!.data as Float64Array)).toEqual([1, 2]);
    expect(loaded.metadata.step).toBe('3');
    expect(fs.readdirSync(tmpRoot).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('refuses bad entries with a code naming the tensor', () => {
    const e1 = errorOf(() =>
      encodeSafetensors([{ name: 'w', dtype: 'F64', shape: [3], data: new Float64Array(2) }]),
    );
    expect([e1.code, e1.tensor]).toEqual(['sizeMismatch', 'w']);
    const e2 = errorOf(() =>
      encodeSafetensors([{ name: 'w', dtype: 'F64', shape: [2], data: new Float32Array(2) }]),
    );
    expect(e2.message).toMatch(/F64 must be given as a Float64Array, got Float32Array/);
    const twice = { name: 'a', dtype: 'F32', shape: [1], data: new Float32Array(1) } as const;
    expect(errorOf(() => encodeSafetensors([twice, twice])).message).toMatch(/'a' appears twice/);
    expect(errorOf(() => encodeSafetensors([], { n: 3 as unknown as string })).message).toMatch(
      /metadata 'n' must be a string/,
    );
    expect(
      errorOf(() => encodeSafetensors([{ name: 'h', dtype: 'F16', shape: [1], data: new Float32Array(1) }]))
        .code,
    ).toBe('invalidEntry');
  });
});

describe('files written by other tools', () => {
  it('reads a PyTorch-style file: metadata in the middle, other key order, F32 data, space padding', () => {
    const header =
      '{"net.0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},' +
      '"__metadata__":{"format":"pt"},' +
      '"net.0.bias":{"shape":[2],"data_offsets":[0,8],"dtype":"F32"}}';
    const buffer = new Uint8Array(24);
    buffer.set(f32Bytes([0.5, -1]), 0);
    buffer.set(f32Bytes([1, 2, 3, 0.25]), 8);
    const file = rawFile(header, buffer, { pad: 8 });
    expect((file.length - 24) % 8).toBe(0);
    const decoded = decodeSafetensors(file);
    expect(decoded.metadata).toEqual({ format: 'pt' });
    expect([...decoded.tensors.keys()]).toEqual(['net.0.weight', 'net.0.bias']);
    const w = decoded.tensors.get('net.0.weight')!;
    expect(w.dtype).toBe('F32');
    expect(w.shape).toEqual([2, 2]);
    expect(Array.from(w.data as Float32Array)).toEqual([1, 2, 3, 0.25]);
    expect(Array.from(decoded.tensors.get('net.0.bias')!.data as Float32Array)).toEqual([0.5, -1]);
  });

  it('reads a tensor that is not aligned within the file buffer (copies it)', () => {
    // A 1-byte U8 tensor first puts the F32 tensor at an odd offset.
    const header =
      '{"flag":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}';
    const buffer = new Uint8Array(9);
    buffer[0] = 7;
    buffer.set(f32Bytes([1.25, -8]), 1);
    const decoded = decodeSafetensors(rawFile(header, buffer));
    expect(Array.from(decoded.tensors.get('x')!.data as Float32Array)).toEqual([1.25, -8]);
    expect(Array.from(decoded.tensors.get('flag')!.data as Uint8Array)).toEqual([7]);
  });

  it('widens F16 and BF16 to float32 exactly', () => {
    // F16: 1.0 = 0x3c00, -2.5 = 0xc100, smallest subnormal 2^-24 = 0x0001, +inf = 0x7c00.
    // BF16: 1.0 = 0x3f80, -0.15625 = 0xbe20.
    const header =
      '{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}';
    const buffer = Uint8Array.from([0x00, 0x3c, 0x00, 0xc1, 0x01, 0x00, 0x00, 0x7c, 0x80, 0x3f, 0x20, 0xbe]);
    const decoded = decodeSafetensors(rawFile(header, buffer));
    const h = decoded.tensors.get('h')!;
    expect(h.dtype).toBe('F16');
    expect(Array.from(h.data as Float32Array)).toEqual([1, -2.5, 2 ** -24, Number.POSITIVE_INFINITY]);
    expect(Array.from(decoded.tensors.get('b')!.data as Float32Array)).toEqual([1, -0.15625]);
  });
});

describe('bad files', () => {
  const okTensor = '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';
  const eight = new Uint8Array(8);
  const cases: [string, () => Uint8Array, string, string | undefined, RegExp][] = [
    [
      'shorter than the length prefix',
      () => Uint8Array.from([1, 2, 3]),
      'fileTooShort',
      undefined,
      /3 bytes/,
    ],
    [
      'truncated: header length beyond the file',
      () => rawFile(`{${okTensor}}`, eight, { length: 500 }),
      'headerOutOfRange',
      undefined,
      /header length 500 goes past the end/,
    ],
    [
      'header not JSON',
      () => rawFile('{"a": [1,', eight),
      'headerInvalidJson',
      undefined,
      /not valid UTF-8 JSON/,
    ],
    [
      'header a JSON array',
      () => rawFile('[1, 2]', eight),
      'headerInvalid',
      undefined,
      /must be a JSON object/,
    ],
    [
      'metadata values not strings',
      () => rawFile(`{"__metadata__":{"epoch":3},${okTensor}}`, eight),
      'headerInvalid',
      undefined,
      /'epoch' must be a string/,
    ],
    [
      'unknown dtype',
      () => rawFile('{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,8]}}', eight),
      'unknownDtype',
      'w',
      /tensor 'w': unknown dtype 'F128'/,
    ],
    [
      'negative shape',
      () => rawFile('{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', eight),
      'invalidShape',
      'w',
      /tensor 'w': shape/,
    ],
    [
      'offsets beyond the buffer',
      () => rawFile('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', eight),
      'offsetsOutOfRange',
      'w',
      /\[0, 16\] are outside the 8-byte buffer/,
    ],
    [
      'end before begin',
      () => rawFile('{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}', eight),
      'offsetsOutOfRange',
      'w',
      /end before begin/,
    ],
    [
      'shape x dtype does not match the byte range',
      () => rawFile('{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}', eight),
      'sizeMismatch',
      'w',
      /\[2\] of F64 needs 16 bytes but .* span 8/,
    ],
    [
      'overlapping tensors',
      () =>
        rawFile(
          '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
          eight,
        ),
      'offsetsOverlap',
      'b',
      /tensor 'b': bytes \[4, 8\] overlap tensor 'a'/,
    ],
    [
      'a hole in the buffer',
      () =>
        rawFile(
          '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}',
          eight,
        ),
      'bufferNotCovered',
      'b',
      /bytes \[4, 6\) of the buffer belong to no tensor \(gap before tensor 'b'\)/,
    ],
    [
      'trailing bytes',
      () => rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', eight),
      'bufferNotCovered',
      'a',
      /bytes \[4, 8\) at the end/,
    ],
    [
      'missing data_offsets',
      () => rawFile('{"a":{"dtype":"F32","shape":[2]}}', eight),
      'offsetsOutOfRange',
      'a',
      /data_offsets must be two non-negative integers/,
    ],
  ];
  it.each(cases)('%s', (_label, make, code, tensor, message) => {
    const e = errorOf(() => decodeSafetensors(make()));
    expect(e.code).toBe(code);
    expect(e.tensor).toBe(tensor);
    expect(e.message).toMatch(message);
  });

  it('loadSafetensors names the file in errors', () => {
    const file = path.join(tmpRoot, 'broken.safetensors');
    fs.writeFileSync(file, rawFile(`{${okTensor}}`, eight, { length: 500 }));
    const e = errorOf(() => loadSafetensors(file));
    expect(e.code).toBe('headerOutOfRange');
    expect(e.path).toBe(file);
    expect(e.message.startsWith(`${file}: `)).toBe(true);
    expect(errorOf(() => loadSafetensors(path.join(tmpRoot, 'missing.safetensors'))).code).toBe('readFailed');
  });
});

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temporary file', () => {
    const file = path.join(tmpRoot, 'a.txt');
    writeFileAtomic(file, 'first');
    writeFileAtomic(file, Uint8Array.from([104, 105]));
    expect(fs.readFileSync(file, 'utf8')).toBe('hi');
    expect(fs.readdirSync(tmpRoot).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('on failure removes the temporary file and keeps the target', () => {
    // Renaming a file over a non-empty directory fails after the temporary file was written.
    const dir = path.join(tmpRoot, 'occupied');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'keep'), 'x');
    expect(() => writeFileAtomic(dir, 'data')).toThrow();
    expect(fs.readFileSync(path.join(dir, 'keep'), 'utf8')).toBe('x');
    expect(fs.readdirSync(tmpRoot).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(() => writeFileAtomic(path.join(tmpRoot, 'no', 'such', 'dir.txt'), 'x')).toThrow(/ENOENT/);
  });
});
