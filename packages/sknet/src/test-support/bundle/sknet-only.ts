// Bundled by bundle.test.ts: a program that imports the package for its side effect only.
import '@kernelzoo/sknet';
import { listModels } from '@kernelzoo/core';

process.stdout.write(JSON.stringify(listModels().map((e) => e.id)));
