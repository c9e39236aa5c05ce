/**
 * Engine behaviour every backend must keep: tidy, dispose, views, reads, and tensors moving
 * between two backends.
 *
 * @module
 */
import {
  add,
  type Backend,
  DisposedError,
  dispose,
  getBackend,
  KernelzooError,
  keep,
  memory,
  mul,
  registerBackend,
  registeredBackends,
  reshape,
  setBackend,
  type Tensor,
  tensor,
  tidy,
} from '@kernelzoo/core';
import { expectClose, MismatchError } from '../compare.js';
import { host, hostInt } from '../host.js';
import type { Case } from '../runner.js';

function assert(cond: boolean, message: string): void {
  if (!cond) throw new MismatchError(message);
}

/** The engine cases for a backend registered as `name`. */
export function engineCases(name: string): Case[] {
  return [
    {
      name: 'tidy disposes intermediates and keeps returned tensors (plain, in arrays, objects and maps)',
      needs: ['binary:add', 'binary:mul'],
      async: true,
      run(ctx) {
        const base = memory().numTensors;
        let inner: Tensor | null = null;
        const out = tidy(() => {
          const a = tensor([1, 2, 3]);
          inner = mul(a, 2);
          const b = add(inner, 1);
          return { b, list: [a], map: new Map([['k', reshape(b, [3, 1])]]) };
        });
        assert(inner !== null && (inner as Tensor).isDisposed, 'tidy: the intermediate was not disposed');
        assert(
          !out.b.isDisposed && !out.list[0].isDisposed && !out.map.get('k')!.isDisposed,
          'tidy: a returned tensor was disposed',
        );
        assert(
          memory().numTensors === base + 3,
          `tidy: expected 3 live tensors, got ${memory().numTensors - base}`,
        );
        ctx.check(out.map.get('k')!, host([3, 5, 7], [3, 1]), 'tidy result');
        dispose(out);
        assert(memory().numTensors === base, 'dispose(container) left tensors alive');
      },
    },
    {
      name: 'nested tidy passes results outward; keep() survives; a throwing tidy cleans up',
      needs: ['binary:add'],
      async: true,
      run() {
        const base = memory().numTensors;
        let kept: Tensor | null = null;
        const outer = tidy(() => {
          const inner = tidy(() => add(tensor([1]), tensor([2])));
          kept = keep(add(inner, 10));
          add(inner, 100);
          return inner;
        });
        assert(
          memory().numTensors === base + 2,
          `nested tidy: expected 2 live tensors, got ${memory().numTensors - base}`,
        );
        expectClose(outer.dataSync(), [3], { rtol: 0, atol: 0 }, 'nested tidy result');
        expectClose((kept as unknown as Tensor).dataSync(), [13], { rtol: 0, atol: 0 }, 'kept tensor');
        outer.dispose();
        (kept as unknown as Tensor).dispose();
        let threw = false;
        try {
          tidy(() => {
            add(tensor([1]), 1);
            throw new Error('boom');
          });
        } catch {
          threw = true;
        }
        assert(threw, 'tidy swallowed an error');
        assert(memory().numTensors === base, 'a throwing tidy leaked tensors');
        let promiseRefused = false;
        try {
          tidy((() => Promise.resolve()) as unknown as () => void);
        } catch (e) {
          promiseRefused = e instanceof KernelzooError;
        }
        assert(promiseRefused, 'tidy accepted an async function');
      },
    },
    {
      name: 'dispose frees buffers, is idempotent, and use after dispose throws DisposedError naming the op',
      needs: ['binary:add'],
      async: true,
      run() {
        const before = memory();
        const t = tensor([1, 2, 3, 4], [2, 2]);
        assert(memory().numDataBuffers === before.numDataBuffers + 1, 'a new tensor did not add one buffer');
        t.dispose();
        t.dispose();
        assert(t.isDisposed, 'isDisposed is false after dispose');
        assert(memory().numDataBuffers === before.numDataBuffers, 'dispose did not free the buffer');
        assert(
          (memory().backends[name]?.buffers ?? 0) === (before.backends[name]?.buffers ?? 0),
          `the ${name} backend still holds the disposed buffer`,
        );
        let err: unknown = null;
        try {
          t.dataSync();
        } catch (e) {
          err = e;
        }
        assert(
          err instanceof DisposedError && err.message.startsWith('dataSync'),
          `dataSync after dispose: ${String(err)}`,
        );
        err = null;
        try {
          tidy(() => add(t, 1));
        } catch (e) {
          err = e;
        }
        assert(
          err instanceof KernelzooError && err.message.includes('add'),
          `add after dispose: ${String(err)}`,
        );
      },
    },
    {
      name: 'reshape views share one buffer, which lives until the last view is disposed',
      needs: [],
      async: true,
      run() {
        const before = memory().numDataBuffers;
        const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
        const v = reshape(a, [3, 2]);
        assert(memory().numDataBuffers === before + 1, 'reshape copied the buffer');
        a.dispose();
        expectClose(
          v.dataSync(),
          [1, 2, 3, 4, 5, 6],
          { rtol: 0, atol: 0 },
          'view after its source was disposed',
        );
        v.dispose();
        assert(memory().numDataBuffers === before, 'the shared buffer outlived its views');
      },
    },
    {
      name: 'data() and dataSync() agree, return fresh copies, and keep dtypes (float32, int32, 0-d)',
      needs: ['binary:add'],
      async: true,
      async run(ctx) {
        const f = ctx.t(host([1.5, -2, 3.25, Number.NaN, Number.POSITIVE_INFINITY], [5]));
        const n = ctx.t(hostInt([1, -2, 2147483647, -2147483648], [2, 2]));
        const s = ctx.t(host([7], []));
        const y = tidy(() => add(f, 1));
        try {
          for (const [t, what] of [
            [f, 'float32'],
            [n, 'int32'],
            [s, '0-d'],
            [y, 'kernel output'],
          ] as const) {
            const a = await t.data();
            const b = t.dataSync();
            assert(a !== b, `${what}: data() and dataSync() returned the same array`);
            assert(
              (t.dtype === 'int32' ? a instanceof Int32Array : a instanceof Float32Array) &&
                a.constructor === b.constructor,
              `${what}: wrong array type ${a.constructor.name} / ${b.constructor.name} for ${t.dtype}`,
            );
            expectClose(a, b, { rtol: 0, atol: 0 }, `${what}: data() vs dataSync()`, t.shape);
            b[0] = 12345;
            expectClose(
              t.dataSync(),
              a,
              { rtol: 0, atol: 0 },
              `${what}: mutating a read changed the tensor`,
              t.shape,
            );
          }
        } finally {
          dispose([f, n, s, y]);
        }
      },
    },
    {
      name: `tensors move between two instances of the backend ('${name}' and '${name}-b') and read back equal`,
      needs: ['binary:add'],
      async: true,
      async run() {
        const second = `${name}-b`;
        if (!registeredBackends().includes(second)) {
          const Ctor = getBackend().constructor as new () => Backend;
          registerBackend(second, () => new Ctor(), -100);
        }
        const baseB = () => memory().backends[second]?.buffers ?? 0;
        try {
          await setBackend(second);
          const before = baseB();
          const onB = tensor([1, 2, 3, 4], [2, 2]);
          const onBi = tensor(Int32Array.from([5, 6]), [2]);
          const tensorsOnB = () => memory().backends[second]?.tensors ?? 0;
          assert(
            baseB() === before + 2 && tensorsOnB() === 2,
            `tensors made on ${second} are not held there`,
          );
          await setBackend(name);
          const y = add(onB, 10);
          assert(tensorsOnB() === 1, `the input did not move off ${second}`);
          assert(onB.backendName === getBackend().name, `a moved tensor reports backend ${onB.backendName}`);
          expectClose(y.dataSync(), [11, 12, 13, 14], { rtol: 0, atol: 0 }, 'moved input result');
          expectClose(
            await onBi.data(),
            [5, 6],
            { rtol: 0, atol: 0 },
            'int32 tensor left on the second backend',
          );
          assert(baseB() === before + 1, `${second} buffers: expected one left, got ${baseB() - before}`);
          const onA = tensor([0.5, 0.25]);
          await setBackend(second);
          const z = add(onA, onBi.dtype === 'int32' ? 1 : 0);
          assert(tensorsOnB() === 3 && baseB() === before + 3, `inputs did not move to ${second}`);
          expectClose(z.dataSync(), [1.5, 1.25], { rtol: 0, atol: 0 }, 'moved back result');
          dispose([onB, onBi, y, onA, z]);
          assert(baseB() === before, `${second} kept buffers after every tensor was disposed`);
        } finally {
          await setBackend(name);
        }
      },
    },
  ];
}
