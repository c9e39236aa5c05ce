import { registerJsBackend } from '@kernelzoo/backend-js';
import { registeredBackends, setBackend } from '@kernelzoo/core';
import { describeConformance } from './index.js';

describeConformance({
  name: 'js',
  setup: async () => {
    if (!registeredBackends().includes('js')) registerJsBackend();
    await setBackend('js');
  },
});
