import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSafetensors, loadSafetensors } from '../src/io/index.js';
import {
  ConcatSquashLinear,
  decodeParameters,
  encodeParameters,
  Linear,
  loadParameters,
  Module,
  type NnError,
  Sequential,
  saveParameters,
  Tanh,
} from '../src/nn/index.js';
import { Rng } from '../src/random/index.js';
import { fromArray, type Tensor } from '../src/tensor/index.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'neuralode-nn-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

class OdeFunc extends Module {
  readonly net: Sequential;
  constructor(rng: Rng, hidden = 3) {
    super();
    this.net = this.addModule(
      'net',
      new Sequential(new Linear(2, hidden, { rng }), new Tanh(), new Linear(hidden, 2, { rng })),
    );
  }
  forward(x: Tensor): Tensor {
    return this.net.forward(x);
  }
}

function nnError(f: () => unknown): NnError {
  try {
    f();
  } catch (e) {
    return e as NnError;
  }
  throw new Error('expected an error');
}

/** A safetensors file assembled by hand, as PyTorch's `save_file` lays it out: F32, metadata, space padding. */
function pytorchStyleFile(tensors: [string, number[], number[]][]): Uint8Array {
  let offset = 0;
  const parts: string[] = ['"__metadata__":{"format":"pt"}'];
  for (const [name, shape, values] of tensors) {
    parts.push(
      `"${name}":{"dtype":"F32","shape":[${shape.join(',')}],"data_offsets":[${offset},${offset + 4 * values.length}]}`,
    );
    offset += 4 * values.length;
  }
  const header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(header.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  out.set(header, 8);
  out.fill(0x20, 8 + header.length, 8 + headerLength);
  let p = 8 + headerLength;
  for (const [, , values] of tensors) {
    for (const v of values) {
      view.setFloat32(p, v, true);
      p += 4;
    }
  }
  return out;
}

describe('saveParameters / loadParameters', () => {
  it('round-trips F64 exactly under PyTorch names, with metadata', () => {
    const a = new OdeFunc(new Rng(1)).finalize();
    a.parameters[0] = -0;
    a.parameters[1] = 1e-310;
    const file = path.join(tmpRoot, 'a.safetensors');
    saveParameters(a, file, { metadata: { epoch: '7' } });
    const raw = loadSafetensors(file);
    expect([...raw.tensors.keys()].sort()).toEqual([
      'net.0.bias',
      'net.0.weight',
      'net.2.bias',
      'net.2.weight',
    ]);
    expect(raw.tensors.get('net.0.weight')!.dtype).toBe('F64');
    const b = new OdeFunc(new Rng(2)).finalize();
    expect(loadParameters(b, file)).toEqual({ epoch: '7' });
    const bytesOf = (v: Float64Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    expect(bytesOf(b.parameters)).toEqual(bytesOf(a.parameters));
    const x = fromArray([[0.3, -0.7]]);
    expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
  });

  it('F32 files round to single precision and load back into a float64 model', () => {
    const a = new OdeFunc(new Rng(3)).finalize();
    const bytes = encodeParameters(a, { dtype: 'F32' });
    const b = new OdeFunc(new Rng(4)).finalize();
    decodeParameters(b, bytes);
    for (let i = 0; i < a.parameters.length; i++) expect(b.parameters[i]).toBe(Math.fround(a.parameters[i]));
  });

  it('loads a PyTorch-style file written byte by byte (names like net.0.weight, F32)', () => {
    const file = path.join(tmpRoot, 'torch.safetensors');
    const values: [string, number[], number[]][] = [
      ['net.2.bias', [2], [0.5, -0.5]],
      ['net.0.weight', [3, 2], [1, 2, 3, 4, 5, 6]],
      ['net.0.bias', [3], [0.25, 0, -0.25]],
      ['net.2.weight', [2, 3], [0.1, 0.2, 0.3, -1, -2, -3]],
    ];
    fs.writeFileSync(file, pytorchStyleFile(values));
    const model = new OdeFunc(new Rng(5)).finalize();
    expect(loadParameters(model, file)).toEqual({ format: 'pt' });
    expect(Array.from(model.parameters)).toEqual(
      [1, 2, 3, 4, 5, 6, 0.25, 0, -0.25, 0.1, 0.2, 0.3, -1, -2, -3, 0.5, -0.5].map(Math.fround),
    );
    // y = W2 tanh(W1 x + b1) + b2, by hand.
    const x = [0.2, -0.1];
    const h = [0, 1, 2].map((j) =>
      Math.tanh(values[1][2][2 * j] * x[0] + values[1][2][2 * j + 1] * x[1] + values[2][2][j]),
    );
    const y = model.forward(fromArray([x])).toArray() as number[][];
    for (let o = 0; o < 2; o++) {
      const w = values[3][2].slice(3 * o, 3 * o + 3).map(Math.fround);
      expect(y[0][o]).toBeCloseTo(w[0] * h[0] + w[1] * h[1] + w[2] * h[2] + Math.fround(values[0][2][o]), 6);
    }
  });

  it('loads FFJORD ConcatSquash names (_layer, _hyper_bias, _hyper_gate)', () => {
    const layer = new ConcatSquashLinear(2, 1, { rng: new Rng(6) }).finalize();
    const bytes = pytorchStyleFile([
      ['_layer.weight', [1, 2], [1, 2]],
      ['_layer.bias', [1], [3]],
      ['_hyper_bias.weight', [1, 1], [4]],
      ['_hyper_gate.weight', [1, 1], [5]],
      ['_hyper_gate.bias', [1], [6]],
    ]);
    decodeParameters(layer, bytes);
    expect(Array.from(layer.parameters)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  describe('mismatched files are refused, naming the first mismatch, and leave the model untouched', () => {
    const model = new OdeFunc(new Rng(7)).finalize();
    const before = Array.from(model.parameters);
    const entries = (hidden: number) =>
      new OdeFunc(new Rng(8), hidden).namedParameters().map(([name, t]) => ({
        name,
        dtype: 'F64' as const,
        shape: [...t.shape],
        data: t.data,
      }));
    const cases: [string, () => Uint8Array, string, string, RegExp][] = [
      [
        'missing name',
        () => encodeSafetensors(entries(3).filter((e) => e.name !== 'net.2.weight')),
        'missingParameter',
        'net.2.weight',
        /has no tensor 'net\.2\.weight'/,
      ],
      [
        'extra name',
        () =>
          encodeSafetensors([
            ...entries(3),
            { name: 'net.4.weight', dtype: 'F64', shape: [1], data: new Float64Array(1) },
          ]),
        'unexpectedParameter',
        'net.4.weight',
        /'net\.4\.weight' is not a parameter/,
      ],
      [
        'shape mismatch (first is net.0.weight)',
        () => encodeSafetensors(entries(4)),
        'shapeMismatch',
        'net.0.weight',
        /'net\.0\.weight' has shape \[4, 2\] but the model's parameter is \[3, 2\]/,
      ],
      [
        'unsupported dtype',
        () =>
          encodeSafetensors(
            entries(3).map((e) =>
              e.name === 'net.0.bias' ? { ...e, dtype: 'I32' as const, data: new Int32Array(3) } : e,
            ) as never,
          ),
        'dtypeMismatch',
        'net.0.bias',
        /'net\.0\.bias' is I32/,
      ],
    ];
    it.each(cases)('%s', (_label, make, code, parameter, message) => {
      const bytes = make();
      const e = nnError(() => decodeParameters(model, bytes, 'model.safetensors'));
      expect(e.code).toBe(code);
      expect(e.parameter).toBe(parameter);
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/^model\.safetensors: /);
      expect(Array.from(model.parameters)).toEqual(before);
    });

    it('a corrupt file is an IoError with the path', () => {
      const file = path.join(tmpRoot, 'corrupt.safetensors');
      fs.writeFileSync(file, Uint8Array.from([200, 0, 0, 0, 0, 0, 0, 0, 123]));
      const e = nnError(() => loadParameters(model, file));
      expect(e.code).toBe('headerOutOfRange');
      expect(e.message).toContain(file);
      expect(Array.from(model.parameters)).toEqual(before);
    });
  });

  it('works on a module that is not finalized yet (values go into its own storage)', () => {
    const a = new Sequential(new Linear(2, 2, { rng: new Rng(9) }));
    const b = new Sequential(new Linear(2, 2, { rng: new Rng(10) }));
    decodeParameters(b, encodeParameters(a));
    expect(b.namedParameters().map(([, t]) => Array.from(t.data))).toEqual(
      a.namedParameters().map(([, t]) => Array.from(t.data)),
    );
  });
});
