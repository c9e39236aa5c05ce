// Bundled by bundle.test.ts: a program that imports one module by name.
import { listModels } from '@kernelzoo/core';
import { SelectiveKernel } from '@kernelzoo/sknet';

process.stdout.write(JSON.stringify({ ids: listModels().map((e) => e.id), unit: typeof SelectiveKernel }));
