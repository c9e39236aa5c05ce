import type { Activation } from '../backend.js';
import { KernelzooError } from '../errors.js';
import { linear } from '../ops/matmul.js';
import { reshape } from '../ops/transform.js';
import type { Tensor } from '../tensor.js';
import { ReLU, Sigmoid } from './activation.js';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d } from './conv.js';
import { FusedConv2d } from './fusion.js';
import { Linear } from './linear.js';
import { type AnyModule, type Disposable, Module } from './module.js';

type Step = { forward(x: Tensor): Tensor };

class Plan implements Disposable {
  constructor(
    readonly steps: Step[],
    private readonly owned: Disposable[],
  ) {}

  dispose(): void {
    for (const d of this.owned) d.dispose();
  }
}

function activationOf(m: AnyModule | undefined): Activation | null {
  if (m instanceof ReLU) return 'relu';
  if (m instanceof Sigmoid) return 'sigmoid';
  return null;
}

/**
 * PyTorch's `nn.Sequential`: children named `0`, `1`, … run in order. In eval mode it fuses
 * `Conv2d → BatchNorm2d → activation` and `Linear → activation` runs once, on first use.
 */
export class Sequential extends Module {
  private readonly layers: AnyModule[];

  /** @param modules - the layers, in order. */
  constructor(...modules: AnyModule[]) {
    super();
    this.layers = modules;
    modules.forEach((m, i) => {
      this.registerModule(String(i), m);
    });
  }

  /** The number of layers. */
  get length(): number {
    return this.layers.length;
  }

  /** The layer at `index`. */
  at(index: number): AnyModule {
    const m = this.layers[index];
    if (!m) throw new KernelzooError(`Sequential: no layer ${index} (it has ${this.layers.length})`);
    return m;
  }

  /** Runs the layers in order. */
  forward(x: Tensor): Tensor {
    const steps: Step[] = this.useFused ? this.prepared('plan', () => this.plan()).steps : this.layers;
    if (steps.length === 0) return reshape(x, x.shape);
    let y = x;
    for (const s of steps) {
      const next = s.forward(y);
      if (y !== x) y.dispose();
      y = next;
    }
    return y;
  }

  private plan(): Plan {
    const steps: Step[] = [];
    const owned: Disposable[] = [];
    const ls = this.layers;
    for (let i = 0; i < ls.length; i++) {
      const m = ls[i];
      if (m instanceof Conv2d) {
        let bn: BatchNorm2d | null = null;
        let j = i + 1;
        if (ls[j] instanceof BatchNorm2d && (ls[j] as BatchNorm2d).numFeatures === m.outChannels)
          bn = ls[j++] as BatchNorm2d;
        const act = activationOf(ls[j]);
        if (act) j++;
        const fused = new FusedConv2d(m, bn, act ?? 'linear');
        steps.push(fused);
        owned.push(fused);
        i = j - 1;
      } else if (m instanceof Linear && activationOf(ls[i + 1])) {
        const act = activationOf(ls[i + 1])!;
        steps.push({ forward: (x) => linear(x, m.weight, m.bias, act) });
        i++;
      } else steps.push(m);
    }
    return new Plan(steps, owned);
  }
}

/**
 * PyTorch's `nn.ModuleList`: holds modules under `0`, `1`, … for their state-dict keys; its
 * owner decides how to call them.
 */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<[], never> {
  private readonly items: M[];

  /** @param modules - the modules, in order. */
  constructor(modules: readonly M[] = []) {
    super();
    this.items = [...modules];
    this.items.forEach((m, i) => {
      this.registerModule(String(i), m);
    });
  }

  /** The number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** The module at `index`. */
  at(index: number): M {
    const m = this.items[index];
    if (!m) throw new KernelzooError(`ModuleList: no module ${index} (it has ${this.items.length})`);
    return m;
  }

  /** Iterates the modules in order. */
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  /** A ModuleList is not callable; iterate it instead. */
  forward(): never {
    throw new KernelzooError('ModuleList has no forward; call its modules (e.g. for (const m of list))');
  }
}
