/**
 * reduce, softmax, argmax, concat, slice, transpose, flip, pad and cast cases.
 *
 * @module
 */
import {
  argmax,
  cast,
  concat,
  flip,
  max,
  mean,
  pad,
  slice,
  softmax,
  split,
  stack,
  sum,
  transpose,
} from '@kernelzoo/core';
import { CaseRandom, type HostTensor, host, hostInt } from '../host.js';
import { tfjs } from '../oracle/index.js';
import type { Case } from '../runner.js';

const REDUCERS = { sum, mean, max } as const;

function normAxes(axis: number | number[] | undefined, rank: number): number[] {
  const raw = axis === undefined ? [...Array(rank).keys()] : typeof axis === 'number' ? [axis] : axis;
  return [...new Set(raw.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

function keepShape(shape: readonly number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** sum / mean / max over every kind of axis list, keepDims, int32 and 1-element input. */
export function reduceCases(): Case[] {
  const configs: [number[], number | number[] | undefined, boolean][] = [
    [[2, 3, 4], undefined, false],
    [[2, 3, 4], 0, false],
    [[2, 3, 4], 1, true],
    [[2, 3, 4], -1, false],
    [[2, 3, 4], [0, 2], false],
    [[2, 3, 4], [-1, 0], true],
    [[2, 3, 4, 5], [2, 3], false],
    [[2, 3, 4, 5], [1, 3], true],
    [[7], 0, false],
    [[1], undefined, false],
    [[1, 1, 1], [0, 2], false],
    [[3, 1, 4], 1, false],
    [[2, 2], [1, 1, -1], false],
  ];
  const cs: Case[] = [];
  for (const op of ['sum', 'mean', 'max'] as const) {
    configs.forEach(([shape, axis, keep], i) => {
      cs.push({
        name: `reduce ${op} x [${shape}] axis ${JSON.stringify(axis) ?? 'all'}${keep ? ' keepDims' : ''}`,
        needs: [`reduce:${op}`],
        run(ctx) {
          const x = new CaseRandom(7000 + i).floats(shape, -3, 3);
          const axes = normAxes(axis, shape.length);
          const e = tfjs.reduce(op, x, axes);
          const expected = keep ? { ...e, shape: keepShape(shape, axes) } : e;
          ctx.check(REDUCERS[op](ctx.t(x), axis, keep), expected, `${op} [${shape}] axis ${axis}`);
        },
      });
    });
    cs.push({
      name: `reduce ${op} on int32 (${op === 'mean' ? 'float32 result' : 'int32 result'})`,
      needs: [`reduce:${op}`],
      run(ctx) {
        const x = new CaseRandom(7100).ints([3, 4], -20, 20);
        ctx.check(REDUCERS[op](ctx.t(x), 1), tfjs.reduce(op, x, [1]), `${op} int32 axis 1`);
        ctx.check(REDUCERS[op](ctx.t(x)), tfjs.reduce(op, x, [0, 1]), `${op} int32 all`);
      },
    });
    cs.push({
      name: `reduce ${op} of a 0-d tensor is itself`,
      needs: [],
      run(ctx) {
        ctx.check(REDUCERS[op](ctx.t(host([2.5], []))), host([2.5], []), `${op} of scalar`);
      },
    });
  }
  cs.push({
    name: 'reduce max with -Inf and +Inf entries',
    needs: ['reduce:max'],
    run(ctx) {
      const inf = Number.POSITIVE_INFINITY;
      const x = host([-inf, -inf, -3, inf, 1, 2], [2, 3]);
      ctx.check(max(ctx.t(x), 1), host([-3, inf], [2]), 'max with infinities');
    },
  });
  return cs;
}

/** softmax on every axis, large logits, length-1 axes; argmax with ties and int32. */
export function softmaxArgmaxCases(): Case[] {
  const cs: Case[] = [];
  const configs: [number[], number, number][] = [
    [[3, 4, 5], -1, 1],
    [[3, 4, 5], 0, 1],
    [[3, 4, 5], 1, 1],
    [[2, 3, 4, 5], 1, 1],
    [[6], 0, 1],
    [[1], 0, 1],
    [[4, 1], 1, 1],
    [[2, 7], -1, 300],
    [[2, 7], 0, 1000],
  ];
  configs.forEach(([shape, axis, scale], i) => {
    cs.push({
      name: `softmax x [${shape}] axis ${axis}${scale > 1 ? ` logits ×${scale} (stability)` : ''}`,
      needs: ['softmax'],
      run(ctx) {
        const x = new CaseRandom(7200 + i).floats(shape, -scale, scale);
        ctx.check(softmax(ctx.t(x), axis), tfjs.softmax(x, axis), `softmax [${shape}] axis ${axis}`);
      },
    });
  });
  const argConfigs: [number[], number][] = [
    [[3, 4, 5], 0],
    [[3, 4, 5], 1],
    [[3, 4, 5], -1],
    [[2, 3, 4, 5], 1],
    [[9], 0],
    [[1], 0],
  ];
  argConfigs.forEach(([shape, axis], i) => {
    cs.push({
      name: `argmax x [${shape}] axis ${axis}`,
      needs: ['argmax'],
      run(ctx) {
        const x = new CaseRandom(7300 + i).floats(shape);
        ctx.check(argmax(ctx.t(x), axis), tfjs.argmax(x, axis), `argmax [${shape}] axis ${axis}`);
      },
    });
  });
  cs.push({
    name: 'argmax returns the first index on ties (float and int32)',
    needs: ['argmax'],
    run(ctx) {
      const f = host([1, 3, 3, 0, 2, 2, 2, 2, -1, 5, 5, -1], [3, 4]);
      ctx.check(argmax(ctx.t(f), 1), hostInt([1, 0, 1], [3]), 'ties along axis 1');
      ctx.check(argmax(ctx.t(f), 0), hostInt([1, 2, 2, 1], [4]), 'argmax along axis 0');
      const n = hostInt([4, 9, 9, -2, 9, 1], [2, 3]);
      ctx.check(argmax(ctx.t(n), -1), hostInt([1, 1], [2]), 'int32 ties');
    },
  });
  cs.push({
    name: 'argmax with -Inf entries',
    needs: ['argmax'],
    run(ctx) {
      const inf = Number.POSITIVE_INFINITY;
      ctx.check(argmax(ctx.t(host([-inf, -inf, -5, inf], [4])), 0), hostInt([3], []), 'argmax infinities');
    },
  });
  return cs;
}

/** concat/stack/split/slice/transpose/pad/cast, including int32, 0-d and 1-element input. */
export function layoutCases(): Case[] {
  const cs: Case[] = [];
  const concats: [number[][], number][] = [
    [
      [
        [2, 3],
        [4, 3],
      ],
      0,
    ],
    [
      [
        [2, 3],
        [2, 1],
        [2, 4],
      ],
      1,
    ],
    [
      [
        [2, 3, 4],
        [2, 3, 1],
      ],
      -1,
    ],
    [
      [
        [1, 2, 2, 2],
        [1, 3, 2, 2],
        [1, 1, 2, 2],
      ],
      1,
    ],
    [[[5], [1], [2]], 0],
    [
      [
        [1, 1],
        [1, 1],
      ],
      0,
    ],
  ];
  concats.forEach(([shapes, axis], i) => {
    cs.push({
      name: `concat ${shapes.map((s) => `[${s}]`).join(' ')} axis ${axis}`,
      needs: ['concat'],
      run(ctx) {
        const r = new CaseRandom(7400 + i);
        const xs = shapes.map((s) => r.floats(s));
        ctx.check(concat(xs.map(ctx.t), axis), tfjs.concat(xs, axis), `concat axis ${axis}`);
      },
    });
  });
  cs.push({
    name: 'concat int32, and stack on axes 0 and -1',
    needs: ['concat'],
    run(ctx) {
      const r = new CaseRandom(7450);
      const a = r.ints([2, 3]);
      const b = r.ints([2, 3]);
      ctx.check(concat([ctx.t(a), ctx.t(b)], 1), tfjs.concat([a, b], 1), 'concat int32');
      const fa = r.floats([2, 3]);
      const fb = r.floats([2, 3]);
      const lift = (h: HostTensor, s: number[]) => ({ ...h, shape: s });
      ctx.check(
        stack([ctx.t(fa), ctx.t(fb)]),
        tfjs.concat([lift(fa, [1, 2, 3]), lift(fb, [1, 2, 3])], 0),
        'stack axis 0',
      );
      ctx.check(
        stack([ctx.t(fa), ctx.t(fb)], -1),
        tfjs.concat([lift(fa, [2, 3, 1]), lift(fb, [2, 3, 1])], 2),
        'stack axis -1',
      );
    },
  });
  const slices: [number[], number[], number[]][] = [
    [
      [4, 5],
      [1, 2],
      [2, 3],
    ],
    [
      [4, 5],
      [0, 0],
      [4, 5],
    ],
    [
      [4, 5],
      [3, 4],
      [1, 1],
    ],
    [
      [2, 3, 4, 5],
      [1, 0, 1, 2],
      [1, 3, 2, 3],
    ],
    [
      [2, 3, 4, 5],
      [0, 1, 0, 0],
      [-1, -1, 3, -1],
    ],
    [[7], [2], [4]],
  ];
  slices.forEach(([shape, begin, size], i) => {
    cs.push({
      name: `slice x [${shape}] begin [${begin}] size [${size}]`,
      needs: ['slice'],
      run(ctx) {
        const x = new CaseRandom(7500 + i).floats(shape);
        const sz = size.map((s, d) => (s === -1 ? shape[d] - begin[d] : s));
        ctx.check(slice(ctx.t(x), begin, size), tfjs.slice(x, begin, sz), `slice [${begin}] [${size}]`);
      },
    });
  });
  cs.push({
    name: 'slice int32, split into equal and given pieces',
    needs: ['slice'],
    run(ctx) {
      const r = new CaseRandom(7550);
      const n = r.ints([3, 4]);
      ctx.check(slice(ctx.t(n), [1, 1], [2, 2]), tfjs.slice(n, [1, 1], [2, 2]), 'slice int32');
      const x = r.floats([2, 6, 3]);
      const parts = split(ctx.t(x), 3, 1);
      parts.forEach((p, k) => {
        ctx.check(p, tfjs.slice(x, [0, 2 * k, 0], [2, 2, 3]), `split 3 piece ${k}`);
      });
      const given = split(ctx.t(x), [1, 2, 3], -2);
      [0, 1, 3].forEach((start, k) => {
        ctx.check(given[k], tfjs.slice(x, [0, start, 0], [2, k + 1, 3]), `split [1, 2, 3] piece ${k}`);
      });
    },
  });
  const perms: [number[], number[] | undefined][] = [
    [
      [3, 4],
      [1, 0],
    ],
    [
      [2, 3, 4],
      [2, 0, 1],
    ],
    [
      [2, 3, 4],
      [0, 2, 1],
    ],
    [
      [2, 3, 4, 5],
      [0, 2, 3, 1],
    ],
    [
      [2, 3, 4, 5],
      [0, 3, 1, 2],
    ],
    [
      [2, 3, 4, 5],
      [3, 2, 1, 0],
    ],
    [
      [2, 3, 4],
      [0, 1, 2],
    ],
    [[2, 1, 3], undefined],
    [
      [1, 5],
      [1, 0],
    ],
  ];
  perms.forEach(([shape, perm], i) => {
    cs.push({
      name: `transpose x [${shape}] perm ${perm ? `[${perm}]` : 'default (reversed)'}`,
      needs: ['transpose'],
      run(ctx) {
        const x = new CaseRandom(7600 + i).floats(shape);
        const p = perm ?? shape.map((_, d) => shape.length - 1 - d);
        ctx.check(transpose(ctx.t(x), perm), tfjs.transpose(x, p), `transpose [${p}]`);
      },
    });
  });
  cs.push({
    name: 'transpose int32 and 0-d',
    needs: ['transpose'],
    run(ctx) {
      const n = new CaseRandom(7650).ints([2, 3, 2]);
      ctx.check(transpose(ctx.t(n), [2, 0, 1]), tfjs.transpose(n, [2, 0, 1]), 'transpose int32');
      ctx.check(transpose(ctx.t(host([4.5], [])), []), host([4.5], []), 'transpose 0-d');
    },
  });
  const pads: [number[], [number, number][], number][] = [
    [
      [1, 2, 3, 3],
      [
        [0, 0],
        [0, 0],
        [1, 1],
        [1, 1],
      ],
      0,
    ],
    [
      [1, 2, 3, 3],
      [
        [0, 0],
        [0, 0],
        [0, 2],
        [1, 0],
      ],
      -1.5,
    ],
    [
      [2, 3],
      [
        [1, 0],
        [0, 2],
      ],
      7,
    ],
    [[4], [[3, 1]], 0],
    [
      [2, 2],
      [
        [0, 0],
        [0, 0],
      ],
      0,
    ],
    [
      [1, 1, 1, 1],
      [
        [1, 1],
        [0, 1],
        [2, 0],
        [1, 2],
      ],
      2,
    ],
  ];
  pads.forEach(([shape, paddings, value], i) => {
    cs.push({
      name: `pad x [${shape}] paddings ${JSON.stringify(paddings)} value ${value}`,
      needs: ['pad'],
      run(ctx) {
        const x = new CaseRandom(7700 + i).floats(shape);
        ctx.check(pad(ctx.t(x), paddings, value), tfjs.pad(x, paddings, value), `pad value ${value}`);
      },
    });
  });
  cs.push({
    name: 'pad int32 and 0-d',
    needs: ['pad'],
    run(ctx) {
      const n = new CaseRandom(7750).ints([2, 2]);
      ctx.check(
        pad(
          ctx.t(n),
          [
            [1, 0],
            [0, 1],
          ],
          3,
        ),
        tfjs.pad(
          n,
          [
            [1, 0],
            [0, 1],
          ],
          3,
        ),
        'pad int32',
      );
      ctx.check(pad(ctx.t(host([1.25], [])), []), host([1.25], []), 'pad 0-d');
    },
  });
  cs.push({
    name: 'cast float32 → int32 truncates toward zero; int32 → float32',
    needs: ['cast'],
    run(ctx) {
      const f = host([-2.7, -2.5, -0.4, 0, 0.4, 2.5, 2.7, 1e6 + 0.5, -3], [9]);
      ctx.check(cast(ctx.t(f), 'int32'), hostInt([-2, -2, 0, 0, 0, 2, 2, 1000000, -3], [9]), 'float → int');
      const n = hostInt([-5, 0, 7, 16777216], [2, 2]);
      ctx.check(cast(ctx.t(n), 'float32'), tfjs.cast(n, 'float32'), 'int → float');
      ctx.check(cast(ctx.t(host([-1.9], [])), 'int32'), hostInt([-1], []), 'cast 0-d');
      ctx.check(cast(ctx.t(f), 'float32'), f, 'cast to the same dtype');
    },
  });
  return cs;
}

/**
 * flip against `tf.reverse`: each single axis of ranks 1–4, several axes at once, negative
 * axes, axes of length 1, empty axes (a copy that outlives its input), 0-d, int32, odd and
 * SIMD-unfriendly lengths, an empty tensor, and an HRNet heatmap `[1, 17, 64, 48]` mirrored
 * left to right (twice: back to the original). Argument errors are in `errors.ts`.
 */
export function flipCases(): Case[] {
  const cs: Case[] = [];
  const configs: [number[], number[], 'float32' | 'int32'][] = [];
  for (const shape of [[7], [3, 5], [2, 3, 5], [2, 3, 4, 5]])
    for (let a = 0; a < shape.length; a++) configs.push([shape, [a], 'float32']);
  configs.push(
    [[2, 3, 5], [0, 2], 'float32'],
    [[2, 3, 4, 5], [1, 3], 'float32'],
    [[2, 3, 4, 5], [3, 0, 2], 'float32'],
    [[2, 3, 4, 5], [0, 1, 2, 3], 'float32'],
    [[2, 3, 4, 5], [-1], 'float32'],
    [[2, 3, 4, 5], [-3, -1], 'float32'],
    [[2, 3, 4, 5], [0, -2], 'float32'],
    [[3, 5], [-2], 'float32'],
    [[4, 1, 3], [1], 'float32'],
    [[1, 5], [0, 1], 'float32'],
    [[1, 1, 1], [0, 1, 2], 'float32'],
    [[3, 7, 9, 11], [2, 3], 'float32'],
    [[5, 13], [1], 'float32'],
    [[1, 3, 17, 33], [3], 'float32'],
    [[2, 3, 40], [2], 'float32'],
    [[2, 3], [], 'float32'],
    [[3, 4, 5], [0, 2], 'int32'],
    [[6], [0], 'int32'],
    [[2, 7, 9], [-1, 1], 'int32'],
  );
  configs.forEach(([shape, axes, dtype], i) => {
    cs.push({
      name: `flip ${dtype} x [${shape}] axes [${axes}]`,
      needs: ['flip'],
      run(ctx) {
        const r = new CaseRandom(7800 + i);
        const x = dtype === 'int32' ? r.ints(shape, -1000, 1000) : r.floats(shape, -5, 5);
        const norm = axes.map((a) => (a < 0 ? a + shape.length : a));
        ctx.check(flip(ctx.t(x), axes), tfjs.flip(x, norm), `flip [${shape}] axes [${axes}]`);
      },
    });
  });
  cs.push({
    name: 'flip of an HRNet heatmap [1, 17, 64, 48] on axis 3, and back',
    needs: ['flip'],
    run(ctx) {
      const x = new CaseRandom(7850).floats([1, 17, 64, 48], 0, 1);
      const y = flip(ctx.t(x), [3]);
      ctx.check(y, tfjs.flip(x, [3]), 'heatmap flipped on axis 3');
      ctx.check(flip(y, [-1]), x, 'heatmap flipped twice');
    },
  });
  cs.push({
    name: 'flip with empty axes is a copy that outlives its input; 0-d and empty tensors',
    needs: ['flip'],
    run(ctx) {
      const h = new CaseRandom(7860).floats([2, 3]);
      const x = ctx.t(h);
      const y = flip(x, []);
      x.dispose();
      ctx.check(y, h, 'flip [] after disposing the input');
      ctx.check(flip(ctx.t(host([2.5], [])), []), host([2.5], []), 'flip 0-d, no axes');
      ctx.check(flip(ctx.t(hostInt([-4], [])), [0]), hostInt([-4], []), 'flip 0-d int32, axis 0');
      ctx.check(flip(ctx.t(host([], [2, 0, 3])), [1, 2]), host([], [2, 0, 3]), 'flip of an empty tensor');
    },
  });
  return cs;
}
