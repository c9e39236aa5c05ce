// Writes the seeded weights of the parity cases and their inputs as safetensors, for
// reference.py to run the reference PyTorch code on (not committed: regenerate with
// `node src/test-support/parity/write-weights.ts <dir>` after `pnpm run build`). The tests
// rebuild the same weights from the same seeds.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { setBackend, type Tensor } from '@kernelzoo/core';
import { SPBlock, StripPooling, spnet50 } from '@kernelzoo/spnet';
import { fromTensors, writeSafetensors } from '@kernelzoo/weights';
import { PARITY_CASES, parityInput, seeded, weightsChecksum } from './networks.ts';

registerJsBackend();
await setBackend('js');
const dir = process.argv[2];
if (!dir) throw new Error('usage: node write-weights.ts <output dir>');
const inputs = new Map<string, Tensor>();
const checksums: Record<string, string> = {};
for (const p of PARITY_CASES) {
  const m = seeded(p, { SPBlock, StripPooling, spnet50 });
  checksums[p.name] = String(weightsChecksum(m));
  await writeFile(
    join(dir, `${p.name}.weights.safetensors`),
    writeSafetensors(await fromTensors(m.stateDict())),
  );
  m.dispose();
  inputs.set(p.name, parityInput(p));
}
await writeFile(
  join(dir, 'input.safetensors'),
  writeSafetensors(await fromTensors(inputs), { metadata: { checksums: JSON.stringify(checksums) } }),
);
for (const t of inputs.values()) t.dispose();
