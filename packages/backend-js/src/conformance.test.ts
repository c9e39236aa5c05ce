import { describeConformance } from '@kernelzoo/conformance/vitest';
import { setBackend } from '@kernelzoo/core';
import { registerJsBackend } from './index.js';

describeConformance({
  name: 'js',
  setup: async () => {
    registerJsBackend();
    await setBackend('js');
  },
});
