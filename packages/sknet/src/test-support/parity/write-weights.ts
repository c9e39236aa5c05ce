// Writes the seeded weights of the parity networks and the parity input as safetensors, for
// reference.py to run timm on (not committed: regenerate with `node write-weights.ts <dir>`
// after `pnpm run build`). The test rebuilds the same weights from the same seed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { setBackend } from '@kernelzoo/core';
import { sknet50, skresnet18, skresnet50 } from '@kernelzoo/sknet';
import { fromTensors, writeSafetensors } from '@kernelzoo/weights';
import {
  PARITY_INPUT_SEED,
  PARITY_INPUT_SHAPE,
  PARITY_NETWORKS,
  parityInput,
  seededNetwork,
} from './networks.ts';

registerJsBackend();
await setBackend('js');
const dir = process.argv[2];
if (!dir) throw new Error('usage: node write-weights.ts <output dir>');
for (const p of PARITY_NETWORKS) {
  const net = seededNetwork(p, { sknet50, skresnet18, skresnet50 });
  await writeFile(
    join(dir, `${p.timm}.weights.safetensors`),
    writeSafetensors(await fromTensors(net.stateDict())),
  );
  net.dispose();
}
const x = parityInput();
await writeFile(
  join(dir, 'input.safetensors'),
  writeSafetensors(await fromTensors(new Map([['input', x]])), {
    metadata: { seed: String(PARITY_INPUT_SEED), shape: JSON.stringify(PARITY_INPUT_SHAPE) },
  }),
);
x.dispose();
