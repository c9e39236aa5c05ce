import { nn, type Tensor } from '@kernelzoo/core';
import { type SPNet, stripFeatureNames } from '@kernelzoo/spnet';

/** The logits for `x` and the SPM gate of the last backbone block (both yours to dispose). */
export function lastGate(net: SPNet, x: Tensor): { logits: Tensor; gate: Tensor } {
  const spm = stripFeatureNames(net).find((s) => s.module === 'pretrained.layer4.2.spm')!;
  const [logits, features] = nn.captureFeatures(net, [spm.gate!, spm.rows, spm.columns], () => net.call(x));
  const gate = features.take(spm.gate!); // [N, 512, H/8, W/8] in (0, 1)
  features.dispose(); // frees the strips (spm.rows: [N, 512, H/8, 1], spm.columns: [N, 512, 1, W/8])
  return { logits, gate };
}
