// Writes the seeded weights of the parity cases and the parity inputs as safetensors, for
// reference.py to run the reference code on (not committed: regenerate with
// `node write-weights.ts <dir>` after `pnpm run build`). The tests rebuild the same weights
// from the same seeds.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { setBackend } from '@kernelzoo/core';
import { HighResolutionModule, hrnet_w18_cls, hrnet_w32_pose, hrnet_w48_seg } from '@kernelzoo/hrnet';
import { fromTensors, writeSafetensors } from '@kernelzoo/weights';
import { PARITY_CASES, PARITY_INPUT_SEED, PARITY_INPUTS, parityInputs, seededNetwork } from './networks.ts';

registerJsBackend();
await setBackend('js');
const dir = process.argv[2];
if (!dir) throw new Error('usage: node write-weights.ts <output dir>');
for (const c of PARITY_CASES) {
  const net = seededNetwork(c, { HighResolutionModule, hrnet_w32_pose, hrnet_w18_cls, hrnet_w48_seg });
  await writeFile(
    join(dir, `${c.name}.weights.safetensors`),
    writeSafetensors(await fromTensors(net.stateDict())),
  );
  net.dispose();
}
const inputs = parityInputs();
await writeFile(
  join(dir, 'input.safetensors'),
  writeSafetensors(await fromTensors(inputs), {
    metadata: { seed: String(PARITY_INPUT_SEED), shapes: JSON.stringify(PARITY_INPUTS) },
  }),
);
for (const t of inputs.values()) t.dispose();
