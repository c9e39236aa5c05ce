// Bundled by bundle.test.ts: a program that imports one function of the package by name.
import { listModels } from '@kernelzoo/core';
import { hrnetConfig } from '@kernelzoo/hrnet';

process.stdout.write(
  JSON.stringify({
    ids: listModels()
      .filter((e) => e.package === '@kernelzoo/hrnet')
      .map((e) => e.id),
    stages: hrnetConfig(32).stages.length,
  }),
);
