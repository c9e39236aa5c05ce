/**
 * unary, binary and batchNorm cases.
 *
 * @module
 */
import {
  addActivation,
  BackendError,
  BINARY_OPS,
  type BinaryOp,
  batchNorm,
  binary,
  getBackend,
  type TensorInfo,
  UNARY_OPS,
  type UnaryOp,
  unary,
} from '@kernelzoo/core';
import { MismatchError } from '../compare.js';
import { CaseRandom, type HostTensor, host, hostInt } from '../host.js';
import { naive, tfjs } from '../oracle/index.js';
import type { Case } from '../runner.js';

const UNARY: readonly UnaryOp[] = UNARY_OPS;

/** The input range each unary function is tested on (its domain, kept away from poles). */
function domain(op: UnaryOp): [number, number] {
  if (op === 'log' || op === 'sqrt' || op === 'rsqrt' || op === 'reciprocal') return [0.05, 4];
  if (op === 'exp') return [-5, 5];
  return [-4, 4];
}

const SPECIAL = [
  0,
  -0,
  1,
  -1,
  0.5,
  -2.5,
  88,
  -88,
  100,
  -100,
  1e-30,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
];

function intUnary(op: UnaryOp, v: number): number {
  if (op === 'neg') return -v;
  if (op === 'abs') return Math.abs(v);
  if (op === 'square') return v * v;
  return Math.max(v, 0);
}

/** Every unary function on random values, special values (±0, ±Inf, NaN, overflow), 0-d and int32 input. */
export function unaryCases(): Case[] {
  const cs: Case[] = [];
  UNARY.forEach((op, i) => {
    cs.push({
      name: `unary ${op} on [2, 3, 5]`,
      needs: [`unary:${op}`],
      run(ctx) {
        const [lo, hi] = domain(op);
        const x = new CaseRandom(100 + i).floats([2, 3, 5], lo, hi);
        ctx.check(unary(op, ctx.t(x)), tfjs.unary(op, x), `${op} [2, 3, 5]`);
      },
    });
    cs.push({
      name: `unary ${op} on special values (±0, ±Inf, NaN, ±88, ±100, 1e-30)`,
      needs: [`unary:${op}`],
      run(ctx) {
        const x = host(SPECIAL, [SPECIAL.length]);
        ctx.check(unary(op, ctx.t(x)), tfjs.unary(op, x), `${op} of [${SPECIAL.join(', ')}]`);
      },
    });
    cs.push({
      name: `unary ${op} on a 0-d tensor`,
      needs: [`unary:${op}`],
      run(ctx) {
        const x = host([0.75], []);
        ctx.check(unary(op, ctx.t(x)), tfjs.unary(op, x), `${op} of scalar 0.75`);
      },
    });
  });
  for (const op of ['neg', 'abs', 'square', 'relu'] as const)
    cs.push({
      name: `unary ${op} on int32`,
      needs: [`unary:${op}`],
      run(ctx) {
        const vals = [-7, -1, 0, 1, 3, 46340, -46340];
        const x = hostInt(vals, [7]);
        ctx.check(
          unary(op, ctx.t(x)),
          hostInt(
            vals.map((v) => intUnary(op, v)),
            [7],
          ),
          `${op} int32`,
        );
      },
    });
  return cs;
}

const BINARY: readonly BinaryOp[] = BINARY_OPS;

/** Broadcasting patterns: every kind, including 0-d against 0-d. */
const PATTERNS: readonly [string, number[], number[]][] = [
  ['same shape', [2, 3, 4], [2, 3, 4]],
  ['trailing vector', [2, 3, 4], [4]],
  ['leading vector (reversed)', [4], [2, 3, 4]],
  ['column × row', [3, 1], [1, 4]],
  ['middle ones', [2, 1, 4], [3, 1]],
  ['per-channel NCHW', [2, 3, 4, 5], [1, 3, 1, 1]],
  ['rank 4 vs rank 2', [2, 3, 4, 5], [4, 1]],
  ['0-d right', [2, 3], []],
  ['0-d left', [], [2, 3]],
  ['0-d both', [], []],
  ['[1] vs 0-d', [1], []],
  ['[1, 1, 1] vs [2, 3, 4]', [1, 1, 1], [2, 3, 4]],
  ['both expand', [3, 1, 1], [1, 4, 5]],
];

function binaryInputs(op: BinaryOp, r: CaseRandom, as: number[], bs: number[]): [HostTensor, HostTensor] {
  if (op === 'pow') return [r.floats(as, 0.1, 2), r.floats(bs, -2, 2)];
  if (op === 'div') {
    const b = r.floats(bs, 0.5, 2);
    const v = b.values;
    for (let i = 0; i < v.length; i++) if (r.chance()) v[i] = -v[i];
    return [r.floats(as), b];
  }
  return [r.floats(as), r.floats(bs)];
}

/** Every binary function on every broadcast pattern, scalars given as numbers, specials, int32. */
export function binaryCases(): Case[] {
  const cs: Case[] = [];
  BINARY.forEach((op, i) => {
    PATTERNS.forEach(([label, as, bs], j) => {
      cs.push({
        name: `binary ${op} broadcast ${label}: [${as}] vs [${bs}]`,
        needs: [`binary:${op}`],
        run(ctx) {
          const [a, b] = binaryInputs(op, new CaseRandom(500 + 20 * i + j), as, bs);
          ctx.check(binary(op, ctx.t(a), ctx.t(b)), tfjs.binary(op, a, b), `${op} [${as}] vs [${bs}]`);
        },
      });
    });
    cs.push({
      name: `binary ${op} with a number on either side`,
      needs: [`binary:${op}`],
      run(ctx) {
        const a = new CaseRandom(700 + i).floats([3, 4], 0.25, 2);
        const s = host([1.5], []);
        ctx.check(binary(op, ctx.t(a), 1.5), tfjs.binary(op, a, s), `${op}(x, 1.5)`);
        ctx.check(binary(op, 1.5, ctx.t(a)), tfjs.binary(op, s, a), `${op}(1.5, x)`);
      },
    });
  });
  cs.push({
    name: 'binary div and pow special values (x/0, 0/0, negative base with integer exponent)',
    needs: ['binary:div', 'binary:pow'],
    run(ctx) {
      const a = host([1, -1, 0, 3, -2, -2, 0, 4], [8]);
      const b = host([0, 0, 0, -0, 2, 3, 0, 0.5], [8]);
      ctx.check(binary('div', ctx.t(a), ctx.t(b)), tfjs.binary('div', a, b), 'div specials');
      ctx.check(binary('pow', ctx.t(a), ctx.t(b)), tfjs.binary('pow', a, b), 'pow specials');
    },
  });
  cs.push({
    name: 'binary maximum / minimum with ±Inf',
    needs: ['binary:maximum', 'binary:minimum'],
    run(ctx) {
      const inf = Number.POSITIVE_INFINITY;
      const a = host([inf, -inf, 1, -inf], [4]);
      const b = host([1, 1, -inf, inf], [4]);
      ctx.check(binary('maximum', ctx.t(a), ctx.t(b)), tfjs.binary('maximum', a, b), 'maximum ±Inf');
      ctx.check(binary('minimum', ctx.t(a), ctx.t(b)), tfjs.binary('minimum', a, b), 'minimum ±Inf');
    },
  });
  const intOps: [BinaryOp, (x: number, y: number) => number][] = [
    ['add', (x, y) => x + y],
    ['sub', (x, y) => x - y],
    ['mul', (x, y) => x * y],
    ['div', (x, y) => x / y],
    ['maximum', Math.max],
    ['minimum', Math.min],
  ];
  for (const [op, f] of intOps)
    cs.push({
      name: `binary ${op} on int32 with broadcasting${op === 'div' ? ' (truncates toward zero)' : ''}`,
      needs: [`binary:${op}`],
      run(ctx) {
        const a = hostInt([-7, 7, -8, 9, 0, 5, -1, 13], [2, 4]);
        const b = hostInt([2, -2, 3, -4], [4]);
        ctx.check(binary(op, ctx.t(a), ctx.t(b)), naive.binary(a, b, f), `${op} int32 [2, 4] vs [4]`);
        const s = hostInt([3], []);
        ctx.check(binary(op, ctx.t(a), 3), naive.binary(a, s, f), `${op} int32 with number 3`);
      },
    });
  PATTERNS.forEach(([label, as, bs], j) => {
    cs.push({
      name: `addActivation relu broadcast ${label}: [${as}] vs [${bs}]`,
      needs: ['binary:add'],
      run(ctx) {
        const [a, b] = binaryInputs('add', new CaseRandom(760 + j), as, bs);
        const expected = tfjs.unary('relu', tfjs.binary('add', a, b));
        ctx.check(addActivation(ctx.t(a), ctx.t(b), 'relu'), expected, `relu(add) [${as}] vs [${bs}]`);
      },
    });
  });
  cs.push({
    name: 'addActivation relu with NaN, ±Inf and signed zeros (NaN stays NaN)',
    needs: ['binary:add'],
    run(ctx) {
      const nan = Number.NaN;
      const inf = Number.POSITIVE_INFINITY;
      const a = host([nan, -1, 1, -0, inf, -inf, 0.5, -0.5, inf], [9]);
      const b = host([1, 0.5, -2, -0, -inf, 1, -0.5, 0.5, 1], [9]);
      const expected = tfjs.unary('relu', tfjs.binary('add', a, b));
      ctx.check(addActivation(ctx.t(a), ctx.t(b), 'relu'), expected, 'relu(add) specials');
    },
  });
  // Core refuses this before any kernel runs (the errors cases); a backend called directly must
  // refuse it too, with its own BackendError, rather than run a float kernel on int32 data.
  cs.push({
    name: "the backend's binary refuses an activation on int32 tensors",
    needs: ['binary:add'],
    run() {
      const be = getBackend();
      const shape = [2, 3];
      const id = be.write(new Int32Array([-3, 2, 0, 5, -1, 4]), shape, 'int32');
      const x: TensorInfo = { dataId: id, shape, dtype: 'int32' };
      let refused: unknown = null;
      try {
        const y = be.binary('add', x, x, shape, 'relu');
        be.disposeData(y.dataId);
      } catch (e) {
        refused = e;
      } finally {
        be.disposeData(id);
      }
      if (!(refused instanceof BackendError) || !refused.message.includes('float32'))
        throw new MismatchError(
          `binary add with relu on int32: expected a BackendError naming float32, got ${refused === null ? 'a result' : String(refused)}`,
        );
    },
  });
  return cs;
}

/** batchNorm over ranks 2–4, with and without scale/offset, other eps. */
export function batchNormCases(): Case[] {
  const shapes: number[][] = [
    [2, 3, 4, 5],
    [1, 1, 1, 1],
    [4, 3],
    [2, 3, 5],
    [3, 8, 2, 3],
  ];
  const cs: Case[] = [];
  shapes.forEach((shape, i) => {
    for (const [label, withScale, withOffset, eps] of [
      ['scale + offset', true, true, 1e-5],
      ['no scale, no offset', false, false, 1e-5],
      ['scale only, eps 1e-3', true, false, 1e-3],
      ['offset only', false, true, 1e-5],
    ] as const) {
      cs.push({
        name: `batchNorm [${shape}] ${label}`,
        needs: ['batchNorm'],
        run(ctx) {
          const r = new CaseRandom(900 + 10 * i + (withScale ? 1 : 0) + (withOffset ? 2 : 0));
          const c = shape[1];
          const x = r.floats(shape, -3, 3);
          const mean = r.floats([c]);
          const variance = r.floats([c], 0.1, 2);
          const scale = withScale ? r.floats([c], 0.5, 1.5) : null;
          const offset = withOffset ? r.floats([c]) : null;
          const expected = tfjs.batchNorm(x, mean, variance, scale, offset, eps);
          const y = batchNorm(ctx.t(x), ctx.t(mean), ctx.t(variance), {
            weight: scale ? ctx.t(scale) : null,
            bias: offset ? ctx.t(offset) : null,
            eps,
          });
          ctx.check(y, expected, `batchNorm [${shape}] ${label}`);
        },
      });
    }
  });
  return cs;
}
