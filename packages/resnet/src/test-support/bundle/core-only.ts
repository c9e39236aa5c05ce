// Bundled by bundle.test.ts: a program that imports no paper package.
import { listModels } from '@kernelzoo/core';

process.stdout.write(JSON.stringify(listModels().map((e) => e.id)));
