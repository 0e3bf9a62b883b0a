import { describe, expect, it } from 'vitest';
import { gradcheck } from '../src/autograd/index.js';
import {
  ConcatConv2d,
  ConcatLinear,
  ConcatSquashLinear,
  Conv2d,
  Elu,
  fanInOut,
  GroupNorm,
  GruCell,
  initGlorotNormal,
  initGlorotUniform,
  initKaimingNormal,
  initKaimingUniform,
  initNormal,
  initPytorchDefault,
  initUniform,
  Linear,
  Module,
  type NnError,
  Relu,
  RnnCell,
  Sequential,
  Sigmoid,
  Softplus,
  Tanh,
} from '../src/nn/index.js';
import { Adam } from '../src/optim/index.js';
import { Rng } from '../src/random/index.js';
import { fromArray, scalar, Tensor } from '../src/tensor/index.js';
import { parameterGradientError, randomTensor } from './nn-helpers.js';

const sigma = (v: number) => 1 / (1 + Math.exp(-v));

/** An ODE vector field wrapper as users write it: a Sequential registered under the name 'net'. */
class OdeFunc extends Module {
  readonly net: Sequential;
  constructor(rng: Rng) {
    super();
    this.net = this.addModule(
      'net',
      new Sequential(new Linear(2, 3, { rng }), new Tanh(), new Linear(3, 2, { rng })),
    );
  }
  forward(x: Tensor): Tensor {
    return this.net.forward(x);
  }
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as NnError).code;
  }
  return 'none';
}

describe('flat parameter vector', () => {
  it('names, order and count match PyTorch named_parameters()', () => {
    const model = new OdeFunc(new Rng(0)).finalize();
    expect(model.namedParameters().map(([n, t]) => [n, t.shape])).toEqual([
      ['net.0.weight', [3, 2]],
      ['net.0.bias', [3]],
      ['net.2.weight', [2, 3]],
      ['net.2.bias', [2]],
    ]);
    expect(model.numParameters).toBe(6 + 3 + 6 + 2);
    expect(model.parameters.length).toBe(17);
    expect(model.gradients.length).toBe(17);
  });

  it('parameter tensors and their gradients are views into the flat vectors', () => {
    const model = new OdeFunc(new Rng(1)).finalize();
    const base = model.parameters.byteOffset;
    const gradBase = model.gradients.byteOffset;
    let offset = 0;
    for (const [, t] of model.namedParameters()) {
      expect(t.data.buffer).toBe(model.parameters.buffer);
      expect(t.data.byteOffset - base).toBe(offset * 8);
      expect(t.grad?.data.buffer).toBe(model.gradients.buffer);
      expect((t.grad?.data.byteOffset ?? -1) - gradBase).toBe(offset * 8);
      offset += t.size;
    }
    // A child's vector is the matching slice of the root's.
    const second = model.net.at(2) as Linear;
    expect(second.parameters.byteOffset - base).toBe(9 * 8);
    expect(second.parameters.length).toBe(8);
    model.parameters[9] = 42;
    expect(second.weight.data[0]).toBe(42);
  });

  it('finalize keeps the initial values and a backward pass fills the flat gradient', () => {
    const rng = new Rng(2);
    const model = new OdeFunc(rng);
    const before = model.namedParameters().map(([, t]) => Array.from(t.data));
    model.finalize();
    expect(model.namedParameters().map(([, t]) => Array.from(t.data))).toEqual(before);
    const x = randomTensor(rng, [4, 2]);
    model.forward(x).sum().backward();
    const first = model.net.at(0) as Linear;
    expect(Array.from(model.gradients.subarray(6, 9))).toEqual(Array.from(first.bias!.grad!.data));
    expect(model.gradients.some((g) => g !== 0)).toBe(true);
    // A child's zeroGrad clears its own slice only.
    (model.net.at(2) as Linear).zeroGrad();
    expect(model.gradients.subarray(9).every((g) => g === 0)).toBe(true);
    expect(model.gradients.subarray(0, 9).some((g) => g !== 0)).toBe(true);
    model.zeroGrad();
    expect(model.gradients.every((g) => g === 0)).toBe(true);
  });

  it('an optimizer step on the flat vector changes the layer outputs and lowers the loss', () => {
    const rng = new Rng(3);
    const model = new OdeFunc(rng).finalize();
    const x = randomTensor(rng, [16, 2]);
    const loss = () => model.forward(x).square().mean();
    const opt = new Adam(model.numParameters, { lr: 0.05 });
    const initial = loss().item();
    let previousOutput = Array.from(model.forward(x).data);
    for (let k = 0; k < 30; k++) {
      model.zeroGrad();
      loss().backward();
      opt.step(model.parameters, model.gradients);
      const output = Array.from(model.forward(x).data);
      expect(output).not.toEqual(previousOutput);
      previousOutput = output;
    }
    expect(loss().item()).toBeLessThan(0.5 * initial);
  });

  it('guards the life cycle: notFinalized, alreadyBound, sharedModule, duplicateName', () => {
    const rng = new Rng(4);
    const lone = new Linear(2, 2, { rng });
    expect(codeOf(() => lone.parameters)).toBe('notFinalized');
    const model = new OdeFunc(rng).finalize();
    expect(model.finalize()).toBe(model);
    expect(codeOf(() => model.net.finalize())).toBe('alreadyBound');
    const shared = new Linear(2, 2, { rng });
    expect(codeOf(() => new Sequential(shared, new Tanh(), shared).finalize())).toBe('sharedModule');
    class Twice extends Module {
      constructor() {
        super();
        this.addModule('a', new Tanh());
        this.addModule('a', new Tanh());
      }
    }
    expect(codeOf(() => new Twice())).toBe('duplicateName');
  });

  it('a finalized module placed in a new parent is rebound into the parent vector with its values', () => {
    const rng = new Rng(5);
    const inner = new Linear(2, 2, { rng }).finalize();
    const values = Array.from(inner.parameters);
    const outer = new Sequential(inner, new Tanh()).finalize();
    expect(Array.from(outer.parameters)).toEqual(values);
    expect(inner.parameters.buffer).toBe(outer.parameters.buffer);
    expect(inner.parameters.byteOffset).toBe(outer.parameters.byteOffset);
    outer.parameters[0] = 7;
    expect(inner.weight.data[0]).toBe(7);
  });
});

describe('layer outputs against hand computations', () => {
  it('Linear: y = x Wᵀ + b', () => {
    const lin = new Linear(2, 3, { rng: new Rng(0) }).finalize();
    lin.parameters.set([1, 2, 3, 4, 5, 6, 0.5, -0.5, 1]); // W = [[1,2],[3,4],[5,6]], b = [0.5,-0.5,1]
    const y = lin.forward(
      fromArray([
        [1, -1],
        [2, 0.5],
      ]),
    );
    expect(y.toArray()).toEqual([
      [1 - 2 + 0.5, 3 - 4 - 0.5, 5 - 6 + 1],
      [2 + 1 + 0.5, 6 + 2 - 0.5, 10 + 3 + 1],
    ]);
    const noBias = new Linear(2, 1, { rng: new Rng(0), bias: false }).finalize();
    expect(noBias.numParameters).toBe(2);
    expect(codeOf(() => lin.forward(fromArray([[1, 2, 3]])))).toBe('invalidArgument');
  });

  it('activations', () => {
    const xs = [-2, -0.3, 0, 0.7, 3];
    const x = fromArray(xs);
    const close = (t: Tensor, f: (v: number) => number) =>
      Array.from(t.data).forEach((v, i) => {
        expect(v).toBeCloseTo(f(xs[i]), 14);
      });
    close(new Tanh().forward(x), Math.tanh);
    close(new Sigmoid().forward(x), sigma);
    close(new Relu().forward(x), (v) => Math.max(v, 0));
    close(new Elu({ alpha: 0.5 }).forward(x), (v) => (v > 0 ? v : 0.5 * (Math.exp(v) - 1)));
    close(new Softplus().forward(x), (v) => Math.log1p(Math.exp(v)));
    close(new Softplus({ beta: 2 }).forward(x), (v) => Math.log1p(Math.exp(2 * v)) / 2);
  });

  it('ConcatLinear puts t first: y = W[:,0] t + W[:,1:] x + b', () => {
    const layer = new ConcatLinear(2, 2, { rng: new Rng(1) }).finalize();
    expect(layer.namedParameters().map(([n, t]) => [n, t.shape])).toEqual([
      ['_layer.weight', [2, 3]],
      ['_layer.bias', [2]],
    ]);
    const W = Array.from(layer.weight.data);
    const b = Array.from(layer.bias!.data);
    const x = [
      [0.3, -1.2],
      [2, 0.1],
    ];
    const t = 0.7;
    const y = layer.forward(t, fromArray(x)).toArray() as number[][];
    for (let r = 0; r < 2; r++) {
      for (let o = 0; o < 2; o++) {
        expect(y[r][o]).toBeCloseTo(
          W[3 * o] * t + W[3 * o + 1] * x[r][0] + W[3 * o + 2] * x[r][1] + b[o],
          14,
        );
      }
    }
    // t as a tensor gives the same values, and an unbatched x works too.
    const yT = layer.forward(scalar(t), fromArray(x)).toArray();
    expect(yT).toEqual(y);
    const single = layer.forward(t, fromArray(x[1])).toArray();
    expect(single).toEqual(y[1]);
  });

  it('ConcatSquashLinear: (W x + b) σ(W_g t + b_g) + W_b t', () => {
    const layer = new ConcatSquashLinear(2, 3, { rng: new Rng(2) }).finalize();
    expect(layer.namedParameters().map(([n]) => n)).toEqual([
      '_layer.weight',
      '_layer.bias',
      '_hyper_bias.weight',
      '_hyper_gate.weight',
      '_hyper_gate.bias',
    ]);
    const { layer: main, hyperBias, hyperGate } = layer.parts;
    const W = main.weight.data;
    const b = main.bias!.data;
    const Wb = hyperBias.weight.data;
    const Wg = hyperGate.weight.data;
    const bg = hyperGate.bias!.data;
    const x = [
      [0.5, -0.25],
      [1, 2],
    ];
    const t = -0.4;
    const y = layer.forward(t, fromArray(x)).toArray() as number[][];
    for (let r = 0; r < 2; r++) {
      for (let o = 0; o < 3; o++) {
        const lin = W[2 * o] * x[r][0] + W[2 * o + 1] * x[r][1] + b[o];
        expect(y[r][o]).toBeCloseTo(lin * sigma(Wg[o] * t + bg[o]) + Wb[o] * t, 14);
      }
    }
  });

  /** Direct 6-loop cross-correlation with zero padding. */
  function naiveConv(
    x: number[][][][],
    w: Float64Array,
    b: Float64Array | null,
    [O, C, K]: [number, number, number],
    stride: number,
    pad: number,
  ): number[][][][] {
    const H = x[0][0].length;
    const Wd = x[0][0][0].length;
    const Ho = Math.floor((H + 2 * pad - K) / stride) + 1;
    const Wo = Math.floor((Wd + 2 * pad - K) / stride) + 1;
    return x.map((img) =>
      Array.from({ length: O }, (_, o) =>
        Array.from({ length: Ho }, (_, i) =>
          Array.from({ length: Wo }, (_, j) => {
            let s = b === null ? 0 : b[o];
            for (let c = 0; c < C; c++)
              for (let p = 0; p < K; p++)
                for (let q = 0; q < K; q++) {
                  const r = i * stride + p - pad;
                  const col = j * stride + q - pad;
                  if (r >= 0 && r < H && col >= 0 && col < Wd)
                    s += w[((o * C + c) * K + p) * K + q] * img[c][r][col];
                }
            return s;
          }),
        ),
      ),
    );
  }

  function expectNested(actual: unknown, expected: unknown) {
    const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
    const a = flat(actual);
    const e = flat(expected);
    expect(a.length).toBe(e.length);
    a.forEach((v, i) => {
      expect(v).toBeCloseTo(e[i], 13);
    });
  }

  it('Conv2d matches a direct convolution (stride 2, padding 1)', () => {
    const rng = new Rng(3);
    const conv = new Conv2d(2, 3, 3, { rng, stride: 2, padding: 1 }).finalize();
    expect(conv.weight.shape).toEqual([3, 2, 3, 3]);
    const x = randomTensor(rng, [2, 2, 5, 4]);
    const expected = naiveConv(
      x.toArray() as number[][][][],
      conv.weight.data as Float64Array,
      conv.bias!.data as Float64Array,
      [3, 2, 3],
      2,
      1,
    );
    expectNested(conv.forward(x).toArray(), expected);
  });

  it('ConcatConv2d adds t as the first input channel', () => {
    const rng = new Rng(4);
    const conv = new ConcatConv2d(2, 2, 3, { rng, padding: 1 }).finalize();
    expect(conv.weight.shape).toEqual([2, 3, 3, 3]);
    const x = randomTensor(rng, [1, 2, 3, 3]);
    const t = 1.5;
    const xs = x.toArray() as number[][][][];
    const withT = xs.map((img) => [img[0].map((row) => row.map(() => t)), ...img]);
    const expected = naiveConv(
      withT,
      conv.weight.data as Float64Array,
      conv.bias!.data as Float64Array,
      [2, 3, 3],
      1,
      1,
    );
    expectNested(conv.forward(t, x).toArray(), expected);
  });

  it('GroupNorm normalises each group and applies the per-channel affine map', () => {
    const gn = new GroupNorm(2, 4, { eps: 1e-5 }).finalize();
    expect(gn.namedParameters().map(([n, t]) => [n, Array.from(t.data)])).toEqual([
      ['weight', [1, 1, 1, 1]],
      ['bias', [0, 0, 0, 0]],
    ]);
    gn.parameters.set([1, 2, 3, 4, 0.1, 0.2, 0.3, 0.4]);
    const rng = new Rng(5);
    const x = randomTensor(rng, [2, 4, 3]);
    const xs = x.toArray() as number[][][];
    const y = gn.forward(x).toArray() as number[][][];
    for (let n = 0; n < 2; n++) {
      for (let g = 0; g < 2; g++) {
        const vals = [...xs[n][2 * g], ...xs[n][2 * g + 1]];
        const mean = vals.reduce((a, v) => a + v, 0) / vals.length;
        const variance = vals.reduce((a, v) => a + (v - mean) ** 2, 0) / vals.length;
        for (const c of [2 * g, 2 * g + 1]) {
          for (let k = 0; k < 3; k++) {
            const expected = ((xs[n][c][k] - mean) / Math.sqrt(variance + 1e-5)) * (c + 1) + 0.1 * (c + 1);
            expect(y[n][c][k]).toBeCloseTo(expected, 13);
          }
        }
      }
    }
  });

  it('GruCell follows PyTorch gate order r, z, n', () => {
    const rng = new Rng(6);
    const cell = new GruCell(2, 3, { rng }).finalize();
    expect(cell.namedParameters().map(([n, t]) => [n, t.shape])).toEqual([
      ['weight_ih', [9, 2]],
      ['weight_hh', [9, 3]],
      ['bias_ih', [9]],
      ['bias_hh', [9]],
    ]);
    const [Wi, Wh, bi, bh] = cell.namedParameters().map(([, t]) => t.data);
    const x = [0.4, -1.1];
    const h = [0.2, 0.5, -0.3];
    const gi = (row: number) => Wi[2 * row] * x[0] + Wi[2 * row + 1] * x[1] + bi[row];
    const gh = (row: number) =>
      Wh[3 * row] * h[0] + Wh[3 * row + 1] * h[1] + Wh[3 * row + 2] * h[2] + bh[row];
    const out = cell.forward(fromArray([x]), fromArray([h])).toArray() as number[][];
    for (let j = 0; j < 3; j++) {
      const r = sigma(gi(j) + gh(j));
      const z = sigma(gi(3 + j) + gh(3 + j));
      const n = Math.tanh(gi(6 + j) + r * gh(6 + j));
      expect(out[0][j]).toBeCloseTo((1 - z) * n + z * h[j], 14);
    }
    expect(codeOf(() => cell.forward(fromArray([x]), fromArray([[1, 2]])))).toBe('invalidArgument');
  });

  it('RnnCell: tanh and relu', () => {
    const rng = new Rng(7);
    for (const nonlinearity of ['tanh', 'relu'] as const) {
      const cell = new RnnCell(2, 2, { rng, nonlinearity }).finalize();
      const [Wi, Wh, bi, bh] = cell.namedParameters().map(([, t]) => t.data);
      const x = [1.5, -0.5];
      const h = [0.3, -0.8];
      const out = cell.forward(fromArray(x), fromArray(h)).toArray() as number[];
      for (let j = 0; j < 2; j++) {
        const pre =
          Wi[2 * j] * x[0] + Wi[2 * j + 1] * x[1] + bi[j] + Wh[2 * j] * h[0] + Wh[2 * j + 1] * h[1] + bh[j];
        expect(out[j]).toBeCloseTo(nonlinearity === 'tanh' ? Math.tanh(pre) : Math.max(pre, 0), 14);
      }
    }
  });

  it('a time-dependent Sequential passes t to time layers only, and refuses forward(x)', () => {
    const rng = new Rng(8);
    const a = new ConcatLinear(2, 4, { rng });
    const b = new ConcatSquashLinear(4, 2, { rng });
    const seq = new Sequential(a, new Tanh(), b).finalize();
    expect(seq.timeDependent).toBe(true);
    const x = randomTensor(rng, [3, 2]);
    const expected = b.forward(0.25, a.forward(0.25, x).tanh());
    expect(seq.forward(0.25, x).toArray()).toEqual(expected.toArray());
    expect(codeOf(() => seq.forward(x))).toBe('invalidArgument');
  });
});

describe('parameter gradients against finite differences', () => {
  const rng = new Rng(9);
  const cases: [string, () => { model: Module; forward: () => Tensor }][] = [
    [
      'Linear',
      () => {
        const model = new Linear(3, 2, { rng }).finalize();
        const x = randomTensor(rng, [4, 3]);
        return { model, forward: () => (model as Linear).forward(x) };
      },
    ],
    [
      'Sequential MLP with every activation',
      () => {
        const model = new Sequential(
          new Linear(2, 4, { rng }),
          new Tanh(),
          new Linear(4, 4, { rng }),
          new Softplus({ beta: 2 }),
          new Linear(4, 4, { rng }),
          new Elu(),
          new Linear(4, 3, { rng }),
          new Sigmoid(),
          new Linear(3, 2, { rng }),
        ).finalize();
        const x = randomTensor(rng, [5, 2]);
        return { model, forward: () => (model as Sequential).forward(x) };
      },
    ],
    [
      'ConcatLinear',
      () => {
        const model = new ConcatLinear(3, 2, { rng }).finalize();
        const x = randomTensor(rng, [4, 3]);
        return { model, forward: () => (model as ConcatLinear).forward(0.3, x) };
      },
    ],
    [
      'ConcatSquashLinear',
      () => {
        const model = new ConcatSquashLinear(3, 2, { rng }).finalize();
        const x = randomTensor(rng, [4, 3]);
        return { model, forward: () => (model as ConcatSquashLinear).forward(-1.2, x) };
      },
    ],
    [
      'Conv2d',
      () => {
        const model = new Conv2d(2, 2, 3, { rng, padding: 1, stride: 2 }).finalize();
        const x = randomTensor(rng, [2, 2, 4, 4]);
        return { model, forward: () => (model as Conv2d).forward(x) };
      },
    ],
    [
      'ConcatConv2d',
      () => {
        const model = new ConcatConv2d(1, 2, 3, { rng, padding: 1 }).finalize();
        const x = randomTensor(rng, [1, 1, 3, 3]);
        return { model, forward: () => (model as ConcatConv2d).forward(0.8, x) };
      },
    ],
    [
      'GroupNorm',
      () => {
        const model = new GroupNorm(2, 4).finalize();
        model.parameters.set(randomTensor(rng, [8]).data);
        const x = randomTensor(rng, [2, 4, 3]);
        return { model, forward: () => (model as GroupNorm).forward(x) };
      },
    ],
    [
      'GruCell',
      () => {
        const model = new GruCell(3, 2, { rng }).finalize();
        const x = randomTensor(rng, [4, 3]);
        const h = randomTensor(rng, [4, 2]);
        return { model, forward: () => (model as GruCell).forward(x, h) };
      },
    ],
    [
      'RnnCell',
      () => {
        const model = new RnnCell(3, 2, { rng }).finalize();
        const x = randomTensor(rng, [4, 3]);
        const h = randomTensor(rng, [4, 2]);
        return { model, forward: () => (model as RnnCell).forward(x, h) };
      },
    ],
  ];
  it.each(cases)('%s', (_name, make) => {
    const { model, forward } = make();
    expect(parameterGradientError(model, forward)).toBeLessThan(1e-7);
  });

  it('inputs and t get correct gradients too (gradcheck)', () => {
    const layer = new ConcatSquashLinear(2, 3, { rng });
    const result = gradcheck((t, x) => layer.forward(t, x), [scalar(0.4), randomTensor(rng, [3, 2])]);
    expect(result.ok, result.message).toBe(true);
    const conv = new ConcatConv2d(1, 1, 3, { rng, padding: 1 });
    const r2 = gradcheck((t, x) => conv.forward(t, x), [scalar(-0.2), randomTensor(rng, [1, 1, 3, 3])]);
    expect(r2.ok, r2.message).toBe(true);
    const gru = new GruCell(2, 2, { rng });
    const r3 = gradcheck((x, h) => gru.forward(x, h), [randomTensor(rng, [2, 2]), randomTensor(rng, [2, 2])]);
    expect(r3.ok, r3.message).toBe(true);
  });
});

describe('initializers', () => {
  const draw = (init: ReturnType<typeof initNormal>, shape: number[], seed = 0) => {
    const out = new Float64Array(shape.reduce((a, b) => a * b, 1));
    init(out, new Rng(seed), { shape, ...fanInOut(shape) });
    return out;
  };
  const stats = (v: Float64Array) => {
    const mean = v.reduce((a, x) => a + x, 0) / v.length;
    const variance = v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length;
    let maxAbs = 0;
    for (const x of v) maxAbs = Math.max(maxAbs, Math.abs(x));
    return { mean, std: Math.sqrt(variance), maxAbs };
  };

  it('fans follow the PyTorch convention', () => {
    expect(fanInOut([4, 3])).toEqual({ fanIn: 3, fanOut: 4 });
    expect(fanInOut([8, 2, 3, 3])).toEqual({ fanIn: 18, fanOut: 72 });
    expect(fanInOut([5])).toEqual({ fanIn: 5, fanOut: 5 });
  });

  it('bounds and standard deviations match their definitions (40 000 draws)', () => {
    const shape = [200, 200]; // fanIn = fanOut = 200
    const uniformStd = (a: number) => a / Math.sqrt(3);
    const cases: [string, Float64Array, number, number | null][] = [
      ['normal', draw(initNormal({ mean: 0, std: 0.3 }), shape), 0.3, null],
      ['uniform', draw(initUniform({ low: -2, high: 2 }), shape), uniformStd(2), 2],
      ['glorotUniform', draw(initGlorotUniform(), shape), uniformStd(Math.sqrt(6 / 400)), Math.sqrt(6 / 400)],
      ['glorotNormal', draw(initGlorotNormal({ gain: 2 }), shape), 2 * Math.sqrt(2 / 400), null],
      [
        'kaimingUniform relu',
        draw(initKaimingUniform({ nonlinearity: 'relu' }), shape),
        Math.SQRT2 / Math.sqrt(200),
        Math.sqrt(6 / 200),
      ],
      [
        'kaimingNormal fanOut',
        draw(initKaimingNormal({ mode: 'fanOut', nonlinearity: 'relu' }), [100, 400]),
        Math.sqrt(2 / 100),
        null,
      ],
      ['pytorchDefault', draw(initPytorchDefault, shape), uniformStd(1 / Math.sqrt(200)), 1 / Math.sqrt(200)],
    ];
    for (const [name, values, std, bound] of cases) {
      const s = stats(values);
      expect(Math.abs(s.mean), name).toBeLessThan(4 * (std / Math.sqrt(values.length)) + 1e-12);
      expect(s.std / std, name).toBeCloseTo(1, 1);
      if (bound !== null) expect(s.maxAbs, name).toBeLessThanOrEqual(bound);
    }
  });

  it('the same seed gives the same model; Linear bias uses the weight fanIn', () => {
    const a = new OdeFunc(new Rng(42)).finalize();
    const b = new OdeFunc(new Rng(42)).finalize();
    expect(Array.from(a.parameters)).toEqual(Array.from(b.parameters));
    const lin = new Linear(400, 2, { rng: new Rng(1) });
    for (const v of lin.bias!.data) expect(Math.abs(v)).toBeLessThanOrEqual(1 / 20);
  });

  it('constructors refuse bad sizes and a missing rng', () => {
    expect(codeOf(() => new Linear(0, 2, { rng: new Rng(0) }))).toBe('invalidArgument');
    expect(codeOf(() => new Linear(2, 2, {} as never))).toBe('invalidArgument');
    expect(codeOf(() => new GroupNorm(3, 4))).toBe('invalidArgument');
    expect(() => new Tensor(new Float64Array(1), [1])).not.toThrow();
  });
});
