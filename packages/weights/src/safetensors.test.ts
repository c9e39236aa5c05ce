import { describe, expect, it } from 'vitest';
import { WeightsError } from './errors.js';
import { detectFormat, parseWeights } from './load.js';
import type { RawTensor } from './raw.js';
import { MAX_SAFETENSORS_HEADER_BYTES, readSafetensors, writeSafetensors } from './safetensors.js';
import { bf16, f16 } from './test-support/builders.js';

/** A safetensors file from a header object and a data section. */
function build(header: unknown, data: Uint8Array, pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function raw(dtype: 'float32' | 'int32', shape: number[], values: number[]): RawTensor {
  return {
    dtype,
    shape,
    data: dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values),
    sourceDtype: dtype,
  };
}

describe('safetensors', () => {
  it('round-trips F32 and I32 with metadata, aligned, in order', () => {
    const dict = new Map([
      ['b.weight', raw('float32', [2, 3], [1, -2, 3.5, 4, 5, 6])],
      ['a.count', raw('int32', [], [7])],
      ['z.empty', raw('float32', [0, 4], [])],
      ['c.bias', raw('float32', [3], [0.25, 0.5, -0.75])],
    ]);
    const bytes = writeSafetensors(dict, { metadata: { format: 'pt' } });
    expect(detectFormat(bytes)).toBe('safetensors');
    expect(new DataView(bytes.buffer).getUint32(0, true) % 8).toBe(0);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect([...back.tensors.keys()]).toEqual(['b.weight', 'a.count', 'z.empty', 'c.bias']);
    for (const [k, t] of dict) {
      const r = back.tensors.get(k)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(Array.from(r.data)).toEqual(Array.from(t.data));
    }
    // F32 data are views of the file, not copies
    expect(back.tensors.get('b.weight')!.data.buffer).toBe(bytes.buffer);
    // also through the generic reader, from an ArrayBuffer
    expect(parseWeights(bytes.slice().buffer).size).toBe(4);
  });

  it('widens F16 and BF16, narrows F64 and I64', () => {
    const h = f16([1.5, -2.25]);
    const b = bf16([3.5, -0.5]);
    const d = new Uint8Array(Float64Array.from([1.1]).buffer);
    const l = new Uint8Array(BigInt64Array.from([-5n]).buffer);
    const data = new Uint8Array([...h, ...b, ...d, ...l]);
    const file = build(
      {
        h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] },
        d: { dtype: 'F64', shape: [1], data_offsets: [8, 16] },
        l: { dtype: 'I64', shape: [1], data_offsets: [16, 24] },
      },
      data,
    );
    const t = readSafetensors(file).tensors;
    expect(Array.from(t.get('h')!.data)).toEqual([1.5, -2.25]);
    expect(t.get('h')!.sourceDtype).toBe('float16');
    expect(Array.from(t.get('b')!.data)).toEqual([3.5, -0.5]);
    expect(t.get('d')!.data[0]).toBeCloseTo(1.1, 6);
    expect(Array.from(t.get('l')!.data)).toEqual([-5]);
    expect(t.get('l')!.dtype).toBe('int32');
  });

  it('refuses bad files, saying what and where', () => {
    const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const data = new Uint8Array(8);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(3), /shorter than the 8-byte header length/],
      [build(ok, data).subarray(0, 20), /header length \d+ runs past the end/],
      [
        (() => {
          const f = build(ok, data);
          new DataView(f.buffer).setUint32(0, 1000, true);
          return f;
        })(),
        /header length 1000 runs past the end of the \d+-byte file \(at byte 0\)/,
      ],
      [
        build(ok, data).subarray(0, 8 + JSON.stringify(ok).length + 4),
        /run past the end of the 4-byte data section.*key 'w'/,
      ],
      [
        (() => {
          const f = build(ok, data);
          new DataView(f.buffer).setUint32(4, 1, true);
          return f;
        })(),
        new RegExp(`header length \\d+ exceeds the limit of ${MAX_SAFETENSORS_HEADER_BYTES}`),
      ],
      [
        build({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, data),
        /unknown or unsupported dtype 'F8_E4M3'.*key 'w'/,
      ],
      [
        build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data),
        /span 8 bytes but F32 \[3\] needs 12/,
      ],
      [
        build({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, data),
        /shape must be an array of integers/,
      ],
      [build({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data), /begin after end/],
      [build({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data), /data_offsets must be/],
      [
        build(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
          },
          data,
        ),
        /overlap those of 'a'.*key 'b'/,
      ],
      [build([1, 2], data), /header must be a JSON object/],
      [build({ __metadata__: { a: 1 } }, data), /__metadata__ value 'a' must be a string/],
      [
        (() => {
          const f = build(ok, data);
          f[10] = 0xff;
          return f;
        })(),
        /header is not valid UTF-8 JSON/,
      ],
    ];
    for (const [bytes, re] of cases) {
      expect(() => readSafetensors(bytes)).toThrow(WeightsError);
      expect(() => readSafetensors(bytes)).toThrow(re);
    }
  });

  it('writes what it is given or says why not', () => {
    expect(() => writeSafetensors(new Map([['w', raw('float32', [3], [1, 2])]]))).toThrow(
      /has 2 values for shape \[3\]/,
    );
    expect(() => writeSafetensors(new Map([['__metadata__', raw('float32', [1], [1])]]))).toThrow(
      WeightsError,
    );
  });
});
