// The networks the profiling scripts run, built the same way in each: seeded weights
// (nn.manualSeed(0)), eval mode, on the active backend.
//   hrnet = HRNet-W32 pose at 256×192, sknet = SKNet-50 at 224², spnet = SPNet-50 ADE20K at 480²,
//   skresnet18 = timm's SK-ResNet-18 at 224².

import { nn, randomNormal } from '../../packages/core/dist/index.js';
import { hrnetPose } from '../../packages/hrnet/dist/index.js';
import { sknet50, skresnet18 } from '../../packages/sknet/dist/index.js';
import { spnet50 } from '../../packages/spnet/dist/index.js';

const NETWORKS = {
  hrnet: [() => hrnetPose({ width: 32 }), [1, 3, 256, 192]],
  sknet: [() => sknet50(), [1, 3, 224, 224]],
  spnet: [() => spnet50(150), [1, 3, 480, 480]],
  skresnet18: [() => skresnet18(), [1, 3, 224, 224]],
};

/** `{ net, shape }` for a name of NETWORKS (net in eval mode); a one-line error otherwise. */
export function buildNetwork(which, script) {
  if (!(which in NETWORKS)) {
    process.stderr.write(`${script}: unknown network '${which}' (${Object.keys(NETWORKS).join(', ')})\n`);
    process.exit(2);
  }
  const [build, shape] = NETWORKS[which];
  nn.manualSeed(0);
  return { net: build().eval(), shape };
}

/**
 * Builds `which` ({@link buildNetwork}) and its input (`randomNormal`, seed 1) on the active
 * backend, and returns `forward`: one forward whose output is read and freed. Runs it
 * `warmups` times first.
 */
export async function networkForward(which, script, warmups = 2) {
  const { net, shape } = buildNetwork(which, script);
  const x = randomNormal(shape, 0, 1, { seed: 1 });
  const forward = async () => {
    const y = net.call(x);
    await y.data();
    y.dispose();
  };
  for (let i = 0; i < warmups; i++) await forward();
  return forward;
}
