import { KernelzooError } from '@kernelzoo/core';
import { describe, expect, it } from 'vitest';
import { WeightsError } from './errors.js';
import { detectFormat, parseWeights, readWeights } from './load.js';
import type { RawTensor } from './raw.js';
import {
  bf16,
  buildTorchLegacy,
  buildTorchZip,
  buildZip,
  f16,
  f32,
  i64,
  Pickler,
  type TensorSpec,
  type Value,
} from './test-support/builders.js';
import { FIXTURES, fixture } from './test-support/fixtures.js';

function values(t: RawTensor | undefined): number[] {
  expect(t).toBeDefined();
  return Array.from(t!.data);
}

function tensor(spec: TensorSpec): Value {
  return { tensor: spec };
}

describe('real PyTorch files', () => {
  it('reads every dtype to the listed values', async () => {
    const cases: [string, string, string, number[], number[]][] = [
      ['float32.pt', 'float32', 'float32', [4], Array.from(Float32Array.from([1.0, 2.5, -3.7, 0.0]))],
      ['float16.pt', 'float16', 'float32', [3], [1.5, -2.25, 3.125]],
      ['bfloat16.pt', 'bfloat16', 'float32', [3], [1.5, -2.5, 3.5]],
      ['float64.pt', 'float64', 'float32', [3], Array.from(Float32Array.from([1.1, 2.2, 3.3]))],
      ['int64.pt', 'int64', 'int32', [4], [100, -200, 300, 0]],
      ['int32.pt', 'int32', 'int32', [3], [10, 20, -30]],
      ['tensor_2d.pt', 'float32', 'float32', [3, 2], [1, 2, 3, 4, 5, 6]],
      ['scalar.pt', 'float32', 'float32', [], [42]],
      ['empty.pt', 'float32', 'float32', [0], []],
    ];
    for (const [file, src, dtype, shape, want] of cases) {
      const sd = await readWeights(FIXTURES + file);
      expect([...sd.keys()], file).toEqual(['tensor']);
      const t = sd.get('tensor')!;
      expect(t.sourceDtype, file).toBe(src);
      expect(t.dtype, file).toBe(dtype);
      expect(t.shape, file).toEqual(shape);
      expect(values(t), file).toEqual(want);
      expect(t.data instanceof (dtype === 'int32' ? Int32Array : Float32Array), file).toBe(true);
    }
  });

  it('reads a bare state dict, in order', () => {
    const sd = parseWeights(fixture('state_dict.pt'));
    expect([...sd.keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var']);
    expect(sd.get('weight')!.shape).toEqual([3, 4]);
    expect(sd.get('bias')!.shape).toEqual([3]);
    expect(values(sd.get('running_mean'))).toEqual([0, 0, 0]);
    expect(values(sd.get('running_var'))).toEqual([1, 1, 1]);
  });

  it('flattens a nested dict to dotted keys', () => {
    const sd = parseWeights(fixture('nested_dict.pt'));
    expect([...sd].map(([k, t]) => [k, t.shape])).toEqual([
      ['layer1.weight', [2, 3]],
      ['layer1.bias', [2]],
      ['layer2.weight', [4, 2]],
      ['layer2.bias', [4]],
    ]);
    expect(parseWeights(fixture('nested_dict.pt'), { key: 'layer2' }).size).toBe(2);
  });

  it('finds model_state_dict in a training checkpoint, or the entry asked for', () => {
    const sd = parseWeights(fixture('checkpoint.pt'));
    expect([...sd].map(([k, t]) => [k, t.shape])).toEqual([
      ['fc1.weight', [10, 5]],
      ['fc1.bias', [10]],
      ['fc2.weight', [3, 10]],
      ['fc2.bias', [3]],
    ]);
    const opt = parseWeights(fixture('checkpoint.pt'), { key: 'optimizer_state_dict' });
    expect([...opt.keys()]).toEqual(['state.0.momentum_buffer']);
    expect(() => parseWeights(fixture('checkpoint.pt'), { key: 'nope' })).toThrow(
      /no entry 'nope'.*'model_state_dict', 'optimizer_state_dict', 'epoch', 'loss'/,
    );
    expect(() => parseWeights(fixture('checkpoint.pt'), { key: 'epoch' })).toThrow(/not a dict of tensors/);
  });

  it('unwraps a single top-level entry, or keeps it with key ""', () => {
    expect([...parseWeights(fixture('top_level_key.pt')).keys()]).toEqual(['conv1.weight', 'conv1.bias']);
    expect([...parseWeights(fixture('top_level_key.pt'), { key: '' }).keys()]).toEqual([
      'my_state_dict.conv1.weight',
      'my_state_dict.conv1.bias',
    ]);
  });

  it('reads the legacy format', () => {
    const bytes = fixture('simple_legacy.pt');
    expect(detectFormat(bytes)).toBe('pytorch-legacy');
    const sd = parseWeights(bytes);
    expect([...sd].map(([k, t]) => [k, t.shape])).toEqual([
      ['weight', [2, 3]],
      ['bias', [2]],
      ['running_mean', [2]],
    ]);
    expect(values(sd.get('bias'))).toEqual([1, 1]);
    expect(values(sd.get('running_mean'))).toEqual([0, 0]);
    expect(values(sd.get('weight')).every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
  });

  it('reads int64 num_batches_tracked as int32', () => {
    const sd = parseWeights(fixture('batch_norm2d.pt'));
    const n = sd.get('norm1.num_batches_tracked')!;
    expect(n.sourceDtype).toBe('int64');
    expect(n.dtype).toBe('int32');
    expect(n.shape).toEqual([]);
    expect(values(n)).toEqual([1]);
  });

  it('refuses broken.pt with a KernelzooError', async () => {
    await expect(readWeights(`${FIXTURES}broken.pt`)).rejects.toThrow(WeightsError);
    await expect(readWeights(`${FIXTURES}broken.pt`)).rejects.toThrow(/unrecognised file \(3 bytes/);
    await expect(readWeights(`${FIXTURES}no-such-file.pt`)).rejects.toThrow(KernelzooError);
  });

  it('returns float32 data as views of the file where aligned', () => {
    const bytes = fixture('float32.pt');
    const t = parseWeights(bytes).get('tensor')!;
    expect(t.data.buffer).toBe(bytes.buffer);
  });
});

const W = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

describe('hand-built zip checkpoints', () => {
  it('handles storage offsets and non-contiguous strides', () => {
    const sd = parseWeights(
      buildTorchZip(
        new Map<string, Value>([
          // rows 1..2 of a 3×4 storage
          ['a', tensor({ storage: '0', storageType: 'FloatStorage', numel: 12, offset: 4, shape: [2, 4] })],
          // its transpose: [4, 3] with strides [1, 4]
          [
            't',
            tensor({ storage: '0', storageType: 'FloatStorage', numel: 12, shape: [4, 3], stride: [1, 4] }),
          ],
          // every other column, from offset 1
          [
            's',
            tensor({
              storage: '0',
              storageType: 'FloatStorage',
              numel: 12,
              offset: 1,
              shape: [3, 2],
              stride: [4, 2],
            }),
          ],
          // a broadcast (stride 0) view
          [
            'e',
            tensor({
              storage: '0',
              storageType: 'FloatStorage',
              numel: 12,
              offset: 5,
              shape: [2, 3],
              stride: [0, 1],
            }),
          ],
          ['p', tensor({ storage: '1', storageType: 'HalfStorage', numel: 3, shape: [3], parameter: true })],
        ]),
        { '0': f32(W), '1': f16([0.5, -1, 65504]) },
      ),
    );
    expect(values(sd.get('a'))).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(values(sd.get('t'))).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(values(sd.get('s'))).toEqual([1, 3, 5, 7, 9, 11]);
    expect(values(sd.get('e'))).toEqual([5, 6, 7, 5, 6, 7]);
    expect(values(sd.get('p'))).toEqual([0.5, -1, 65504]);
  });

  it('reads zip64 directories', () => {
    const bytes = buildTorchZip(
      new Map([['w', tensor({ storage: '0', storageType: 'FloatStorage', numel: 3, shape: [3] })]]),
      { '0': f32([1, 2, 3]) },
      { zip64: true },
    );
    expect(values(parseWeights(bytes).get('w'))).toEqual([1, 2, 3]);
  });

  it('copies unaligned float32 storages', () => {
    const sd = parseWeights(
      buildTorchZip(
        new Map([['w', tensor({ storage: '0', storageType: 'FloatStorage', numel: 3, shape: [3] })]]),
        {
          '0': f32([1, 2, 3]),
        },
        { align: 1 },
      ),
    );
    expect(values(sd.get('w'))).toEqual([1, 2, 3]);
  });

  it('inflates deflated entries asynchronously; the sync reader says why it cannot', async () => {
    const bytes = buildTorchZip(
      new Map([['w', tensor({ storage: '0', storageType: 'FloatStorage', numel: 3, shape: [3] })]]),
      { '0': f32([1, 2, 3]) },
      { deflate: true },
    );
    expect(values((await readWeights(bytes)).get('w'))).toEqual([1, 2, 3]);
    expect(() => parseWeights(bytes)).toThrow(/deflate-compressed.*readWeights.*entry 'archive\//);
  });

  it('refuses views past the storage end, with the key', () => {
    const bytes = buildTorchZip(
      new Map([
        ['w', tensor({ storage: '0', storageType: 'FloatStorage', numel: 4, offset: 2, shape: [3] })],
      ]),
      { '0': f32([1, 2, 3, 4]) },
    );
    expect(() => parseWeights(bytes)).toThrow(WeightsError);
    expect(() => parseWeights(bytes)).toThrow(/key 'w'/);
  });

  it('refuses huge broadcast views and absurd storage sizes without allocating', () => {
    const wide = buildTorchZip(
      new Map([
        ['w', tensor({ storage: '0', storageType: 'FloatStorage', numel: 1, shape: [1 << 30], stride: [0] })],
      ]),
      { '0': f32([1]) },
    );
    expect(() => parseWeights(wide)).toThrow(/expanded views are limited.*key 'w'/);
    const absurd = buildTorchZip(
      new Map([['w', tensor({ storage: '0', storageType: 'FloatStorage', numel: 2 ** 40, shape: [2] })]]),
      { '0': f32([1, 2]) },
    );
    expect(() => parseWeights(absurd)).toThrow(/holds 8 bytes but float32\[1099511627776\] needs/);
  });

  it('refuses storages shorter than declared', () => {
    const bytes = buildTorchZip(
      new Map([['w', tensor({ storage: '0', storageType: 'FloatStorage', numel: 8, shape: [8] })]]),
      { '0': f32([1, 2, 3, 4]) },
    );
    expect(() => parseWeights(bytes)).toThrow(/entry 'archive\/data\/0'/);
  });

  it('refuses int64 values outside int32, naming the key', () => {
    const bytes = buildTorchZip(
      new Map([['n', tensor({ storage: '0', storageType: 'LongStorage', numel: 2, shape: [2] })]]),
      { '0': i64([1, 2n ** 40n]) },
    );
    expect(() => parseWeights(bytes)).toThrow(/int64 value 1099511627776 .*does not fit int32.*key 'n'/);
  });

  it('unwraps state_dict/model wrappers and module. prefixes, as asked', () => {
    const t = (k: string): Value => tensor({ storage: k, storageType: 'FloatStorage', numel: 1, shape: [1] });
    const inner = new Map<string, Value>([
      ['module.conv.weight', t('0')],
      ['module.conv.bias', t('1')],
    ]);
    const storages = { '0': f32([1]), '1': f32([2]) };
    for (const wrapper of ['state_dict', 'model']) {
      const bytes = buildTorchZip(
        new Map<string, Value>([
          ['epoch', 3],
          [wrapper, inner],
          ['arch', 'resnet'],
        ]),
        storages,
      );
      expect([...parseWeights(bytes).keys()], wrapper).toEqual(['conv.weight', 'conv.bias']);
      expect([...parseWeights(bytes, { stripPrefix: false }).keys()]).toEqual([
        'module.conv.weight',
        'module.conv.bias',
      ]);
      expect([...parseWeights(bytes, { key: wrapper, stripPrefix: 'module.conv.' }).keys()]).toEqual([
        'weight',
        'bias',
      ]);
    }
    const two = buildTorchZip(
      new Map<string, Value>([
        ['epoch', 3],
        ['a', inner],
        ['b', inner],
      ]),
      storages,
    );
    expect(() => parseWeights(two)).toThrow(
      /several entries hold tensors \('a', 'b'\); choose one with the 'key' option/,
    );
    expect([...parseWeights(two, { key: 'b' }).keys()]).toEqual(['conv.weight', 'conv.bias']);
  });

  it('refuses globals outside the allow-list, naming them', () => {
    const evil = (module: string, name: string) =>
      buildZipWith(
        new Pickler().proto().global(module, name).mark().str('echo hi').tuple().reduce().stop().bytes(),
      );
    for (const [m, n] of [
      ['os', 'system'],
      ['builtins', 'eval'],
      ['posix', 'system'],
      ['torch.nn.modules.conv', 'Conv2d'],
      ['__builtin__', 'getattr'],
    ]) {
      expect(() => parseWeights(evil(m, n))).toThrow(WeightsError);
      expect(() => parseWeights(evil(m, n))).toThrow(`global '${m}.${n}' is not allowed`);
    }
  });

  it('accepts torch._tensor._rebuild_from_type_v2 around an allowed rebuild, refuses it around others', () => {
    const wrapped = (fn: [string, string]) => {
      const p = new Pickler().proto().emptyDict().str('w');
      p.global('torch._tensor', '_rebuild_from_type_v2').mark();
      p.global(fn[0], fn[1]).global('torch', 'Tensor').mark();
      p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(2).tuple().binpersid();
      p.int(0).int(2).op(0x85).int(1).op(0x85).bool(false).emptyDict().tuple();
      p.emptyDict().tuple().reduce().setitem().stop();
      return buildZip([
        ['archive/data.pkl', p.bytes()],
        ['archive/data/0', f32([3, 4])],
      ]);
    };
    expect(values(parseWeights(wrapped(['torch._utils', '_rebuild_tensor_v2'])).get('w'))).toEqual([3, 4]);
    expect(() => parseWeights(wrapped(['builtins', 'exec']))).toThrow(
      "global 'builtins.exec' is not allowed",
    );
  });

  it('refuses NEWOBJ, INST and other opcodes a state dict does not need', () => {
    for (const op of [0x81, 0x69, 0x6f, 0x92, 0x49, 0x56]) {
      const p = new Pickler().proto().emptyTuple().op(op).stop();
      expect(() => parseWeights(buildZipWith(p.bytes()))).toThrow(/opcode 0x.. .*is not allowed/);
    }
  });

  it('refuses a dict that contains itself instead of looping', () => {
    // d = {}; d['x'] = d; d['w'] = tensor
    const p = new Pickler().proto().emptyDict().put(0).str('x').get(0).setitem().stop();
    expect(() => parseWeights(buildZipWith(p.bytes()))).toThrow(WeightsError);
  });
});

/** A zip checkpoint whose data.pkl is the given pickle. */
function buildZipWith(pkl: Uint8Array): Uint8Array {
  return buildZip([['archive/data.pkl', pkl]]);
}

describe('hand-built legacy checkpoints', () => {
  it('reads float16, bfloat16, cuda storages, offsets, strides and storage views', () => {
    const storages: [string, number, Uint8Array][] = [
      ['100', 12, f32(W)],
      ['200', 4, f16([1.5, -2.25, 3.125, 0.0009765625])],
      ['300', 3, bf16([1.5, -2.5, 3.5])],
      ['400', 2, i64([7, -8])],
    ];
    const bytes = buildTorchLegacy(
      new Map<string, Value>([
        [
          'w',
          tensor({
            storage: '100',
            storageType: 'FloatStorage',
            storageModule: 'torch.cuda',
            numel: 12,
            shape: [3, 4],
          }),
        ],
        [
          'wt',
          tensor({
            storage: '100',
            storageType: 'FloatStorage',
            numel: 12,
            offset: 1,
            shape: [2, 2],
            stride: [1, 4],
          }),
        ],
        ['h', tensor({ storage: '200', storageType: 'HalfStorage', numel: 4, shape: [4] })],
        [
          'b',
          tensor({ storage: '300', storageType: 'BFloat16Storage', numel: 3, shape: [3], parameter: true }),
        ],
        ['n', tensor({ storage: '400', storageType: 'LongStorage', numel: 2, offset: 1, shape: [] })],
        // an old-style storage view: elements 6..11 of storage 100, seen as [2, 3]
        [
          'v',
          tensor({
            storage: '100',
            storageType: 'FloatStorage',
            numel: 12,
            shape: [2, 3],
            view: ['101', 6, 6],
          }),
        ],
      ]),
      storages,
    );
    expect(detectFormat(bytes)).toBe('pytorch-legacy');
    const sd = parseWeights(bytes);
    expect(values(sd.get('w'))).toEqual(W);
    expect(values(sd.get('wt'))).toEqual([1, 5, 2, 6]);
    expect(values(sd.get('h'))).toEqual([1.5, -2.25, 3.125, 0.0009765625]);
    expect(sd.get('h')!.sourceDtype).toBe('float16');
    expect(values(sd.get('b'))).toEqual([1.5, -2.5, 3.5]);
    expect(sd.get('b')!.sourceDtype).toBe('bfloat16');
    expect(values(sd.get('n'))).toEqual([-8]);
    expect(values(sd.get('v'))).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it('refuses a view that leaves its storage view', () => {
    const bytes = buildTorchLegacy(
      new Map<string, Value>([
        [
          'v',
          tensor({
            storage: '1',
            storageType: 'FloatStorage',
            numel: 12,
            offset: 2,
            shape: [6],
            view: ['2', 6, 6],
          }),
        ],
      ]),
      [['1', 12, f32(W)]],
    );
    expect(() => parseWeights(bytes)).toThrow(/key 'v'/);
  });

  it('refuses wrong magic numbers, sizes and truncation', () => {
    const good = buildTorchLegacy(
      new Map<string, Value>([
        ['w', tensor({ storage: '1', storageType: 'FloatStorage', numel: 3, shape: [3] })],
      ]),
      [['1', 3, f32([1, 2, 3])]],
    );
    expect(values(parseWeights(good).get('w'))).toEqual([1, 2, 3]);
    const wrongMagic = good.slice();
    wrongMagic[5] ^= 1;
    expect(() => parseWeights(wrongMagic)).toThrow(/wrong magic number/);
    expect(() => parseWeights(good.subarray(0, good.length - 1))).toThrow(/truncated: storage '1'/);
    const wrongCount = good.slice();
    wrongCount[good.length - 12 - 8] = 4;
    expect(() => parseWeights(wrongCount)).toThrow(/holds 4 elements but the object says 3/);
  });
});
