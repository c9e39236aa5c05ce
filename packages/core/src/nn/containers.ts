import { KernelzooError } from '../errors.js';
import { reshape } from '../ops/transform.js';
import type { Tensor } from '../tensor.js';
import { Identity, ReLU, Sigmoid } from './activation.js';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d } from './conv.js';
import { Linear } from './linear.js';
import { type AnyModule, Module } from './module.js';

const isActivation = (m: AnyModule | undefined) =>
  m instanceof ReLU || m instanceof Sigmoid || m instanceof Identity;

/**
 * PyTorch's `nn.Sequential`: children named `0`, `1`, … run in order. It declares its own
 * fusion chains (see {@link Module.registerFusion}): each `Conv2d → BatchNorm2d → activation`
 * run (BatchNorm and activation each optional, BatchNorm only when its features equal the
 * convolution's output channels) and each `Linear → activation` pair, so in eval mode they run
 * as single kernels.
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
    this.declareChains();
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

  /** Iterates the layers in order. */
  [Symbol.iterator](): Iterator<AnyModule> {
    return this.layers[Symbol.iterator]();
  }

  /** Runs the layers in order, freeing each intermediate result as soon as the next exists. */
  protected forward(x: Tensor): Tensor {
    if (this.layers.length === 0) return reshape(x, x.shape);
    let y = x;
    for (const layer of this.layers) {
      const next = layer.call(y) as Tensor;
      if (y !== x && next !== y) y.dispose();
      y = next;
    }
    return y;
  }

  private declareChains(): void {
    const ls = this.layers;
    for (let i = 0; i < ls.length; i++) {
      const head = ls[i];
      let j = i + 1;
      if (head instanceof Conv2d) {
        const bn = ls[j];
        if (bn instanceof BatchNorm2d && bn.numFeatures === head.outChannels) j++;
      } else if (!(head instanceof Linear)) continue;
      if (isActivation(ls[j])) j++;
      if (j === i + 1) continue;
      const names: string[] = [];
      for (let k = i; k < j; k++) names.push(String(k));
      this.registerFusion(...names);
      i = j - 1;
    }
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
  protected forward(): never {
    throw new KernelzooError('ModuleList is not callable; call its modules (e.g. for (const m of list))');
  }
}
