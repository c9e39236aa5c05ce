import type { nn } from '@kernelzoo/core';
import { SPBlock } from './spblock.js';
import { StripPooling } from './strip-pooling.js';

/**
 * Where the strip pooling outputs of one {@link SPBlock} (SPM) or {@link StripPooling} (MPM)
 * are, as module names for `nn.captureFeatures` — what the paper visualises.
 */
export interface StripFeatureNames {
  /** The module's name in the root (`pretrained.layer2.3.spm`, `head.strip_pool1`, …). */
  readonly module: string;
  /** Which module it is. */
  readonly kind: 'SPBlock' | 'StripPooling';
  /**
   * SPBlock: the gate `[N, C, H, W]` in (0, 1) — the module's own output, which the bottleneck
   * multiplies in. StripPooling: null (its output is the residual feature map).
   */
  readonly gate: string | null;
  /** The `H × 1` strip (row averages): SPBlock `pool1`, StripPooling `pool4`. */
  readonly rows: string;
  /** The `1 × W` strip (column averages): SPBlock `pool2`, StripPooling `pool3`. */
  readonly columns: string;
  /** StripPooling: the pyramid pools to 20 × 20 and 12 × 12 (`pool1`, `pool2`); SPBlock: empty. */
  readonly pyramid: readonly string[];
}

/**
 * The {@link StripFeatureNames} of every SPBlock and StripPooling under `root` (an SPNet, its
 * backbone, or any module holding them), in module order.
 *
 * @example
 * ```ts
 * const [spm] = stripFeatureNames(net); // pretrained.layer1.2.spm
 * const [logits, features] = nn.captureFeatures(net, [spm.gate!, spm.rows], () => net.call(x));
 * const gate = features.take(spm.gate!); // [N, 64, H/4, W/4], yours
 * features.dispose();
 * ```
 */
export function stripFeatureNames(root: nn.Module): StripFeatureNames[] {
  const out: StripFeatureNames[] = [];
  for (const [name, m] of root.namedModules()) {
    const at = (child: string) => (name === '' ? child : `${name}.${child}`);
    if (m instanceof SPBlock)
      out.push({
        module: name,
        kind: 'SPBlock',
        gate: name,
        rows: at('pool1'),
        columns: at('pool2'),
        pyramid: [],
      });
    else if (m instanceof StripPooling)
      out.push({
        module: name,
        kind: 'StripPooling',
        gate: null,
        rows: at('pool4'),
        columns: at('pool3'),
        pyramid: [at('pool1'), at('pool2')],
      });
  }
  return out;
}
