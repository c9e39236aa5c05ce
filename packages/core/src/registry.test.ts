import { describe, expect, it } from 'vitest';
import { ArgumentError, KernelzooError } from './errors.js';
import { Identity } from './nn/activation.js';
import { getModel, listModels, type ModelEntry, registerModel } from './registry.js';

const entry = (
  id: string,
  pkg = '@kernelzoo/test',
  task: ModelEntry['task'] = 'classification',
): ModelEntry => ({
  id,
  package: pkg,
  description: 'a test network',
  task,
  inputSize: [224, 224],
  numClasses: 1000,
  labels: 'imagenet-1k',
  preprocessing: {
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    scale: 1,
    resize: 'shorter-side',
    interpolation: 'bicubic',
    cropPct: 0.875,
  },
  reference: { parameters: 1, parametersSource: 'computed', gflops: 'computed', source: 'test' },
  build: () => new Identity(),
});

describe('model registry', () => {
  it('lists what was registered, by task, and returns entries by id', () => {
    const a = entry('net_a');
    registerModel(a);
    registerModel(entry('net_b', '@kernelzoo/test', 'pose'));
    registerModel(a); // the same entry again is harmless (a module evaluated twice)
    expect(listModels().map((e) => e.id)).toEqual(['net_a', 'net_b']);
    expect(listModels({ task: 'pose' }).map((e) => e.id)).toEqual(['net_b']);
    expect(getModel('net_a')).toBe(a);
  });

  it('refuses a second package claiming an id, and bad ids', () => {
    expect(() => registerModel(entry('net_a', '@kernelzoo/other'))).toThrow(
      "registerModel: 'net_a' is already registered by @kernelzoo/test; @kernelzoo/other cannot register it again",
    );
    expect(() => registerModel(entry('Net-A'))).toThrow(ArgumentError);
  });

  it('names the registered ids and the packages to import for an unknown id', () => {
    expect(() => getModel('sknet50')).toThrow(KernelzooError);
    expect(() => getModel('sknet50')).toThrow(/registered: net_a, net_b.*@kernelzoo\/sknet/);
  });
});
