import { registerJsBackend } from '@kernelzoo/backend-js';
import { adaptiveAvgPool2d, add, nn, relu, setBackend, type Tensor } from '@kernelzoo/core';
import { referenceKeys as sharedReferenceKeys } from '@kernelzoo/test-support';

/** Registers backend-js and selects it (call in `beforeAll`). */
export async function useJs(): Promise<void> {
  registerJsBackend();
  await setBackend('js');
}

export { maxDifference as compare, randomizeBatchNorms } from '@kernelzoo/conformance';

/**
 * A test gate with the key names and shapes of SPNet's strip-pooling module (`SPBlock` in
 * `models/resnet.py`): `conv1` [C, C, 3, 1], `bn1`, `conv2` [C, C, 1, 3], `bn2`, `conv3`
 * [C, C, 1, 1] with bias. Its forward follows models.md §2.1: column strip pool → conv1 → bn1,
 * row strip pool → conv2 → bn2, broadcast sum, ReLU, conv3, sigmoid. Here only to prove the
 * block's gate extension point; the real module belongs to `@kernelzoo/spnet`.
 */
export class StripGate extends nn.Module {
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm2d;
  readonly conv2: nn.Conv2d;
  readonly bn2: nn.BatchNorm2d;
  readonly conv3: nn.Conv2d;
  readonly sigmoid: nn.Sigmoid;

  constructor(readonly channels: number) {
    super();
    const c = channels;
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(c, c, [3, 1], { padding: [1, 0], bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(c));
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(c, c, [1, 3], { padding: [0, 1], bias: false }));
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(c));
    this.conv3 = this.registerModule('conv3', new nn.Conv2d(c, c, 1));
    this.sigmoid = this.registerModule('sigmoid', new nn.Sigmoid());
    this.registerFusion('conv1', 'bn1');
    this.registerFusion('conv2', 'bn2');
    this.registerFusion('conv3', 'sigmoid');
  }

  protected forward(x: Tensor): Tensor {
    const x1 = this.bn1.call(this.conv1.call(adaptiveAvgPool2d(x, [null, 1]))); // [N, C, H, 1]
    const x2 = this.bn2.call(this.conv2.call(adaptiveAvgPool2d(x, [1, null]))); // [N, C, 1, W]
    return this.sigmoid.call(this.conv3.call(relu(add(x1, x2))));
  }
}

/** SPNet's placement rule (models.md §2.1): the last block of each stage, and every block with planes 512. */
export function spnetPlacement(planes: number, index: number, blocks: number): boolean {
  return index === 0 ? planes === 512 : index === blocks - 1 || planes === 512;
}

/**
 * The reference key list of SPNet-50 (ADE20K), `spnet50_ade20k.txt` in `shared/reference/keys/`,
 * as `[key, shape]` for the keys under `prefix`, with the prefix removed.
 */
export function referenceKeys(prefix: string): [string, number[]][] {
  return sharedReferenceKeys('spnet50_ade20k', { under: prefix });
}
