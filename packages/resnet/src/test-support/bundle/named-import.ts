// Bundled by bundle.test.ts: a program that imports one constructor by name.
import { listModels } from '@kernelzoo/core';
import { Bottleneck } from '@kernelzoo/resnet';

process.stdout.write(JSON.stringify({ ids: listModels().map((e) => e.id), block: typeof Bottleneck }));
