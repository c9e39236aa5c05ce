import { JsBackend } from '@kernelzoo/backend-js';
import { nn } from '@kernelzoo/core';
import { describe, expect, it } from 'vitest';
import type { KernelNode } from './graph.js';
import { recordNetwork } from './record.js';

describe('recordNetwork', () => {
  it('records the folded eval forward: kernels in call order, constants with their values', async () => {
    nn.manualSeed(1);
    const build = () =>
      new nn.Sequential(
        new nn.Conv2d(3, 4, 3, { padding: 1 }),
        new nn.BatchNorm2d(4),
        new nn.ReLU(),
        new nn.MaxPool2d(2, { stride: 2 }),
        new nn.Conv2d(4, 2, 1),
      );
    const { graph, input, output } = await recordNetwork(build, [1, 3, 6, 6], new JsBackend());
    expect(graph.nodes.map((n) => n.kernel)).toEqual(['conv2d', 'pool2d', 'conv2d']);
    const first = graph.nodes[0] as Extract<KernelNode, { kernel: 'conv2d' }>;
    const [x, w, b, info, activation] = first.args;
    expect(x).toBe(graph.input);
    expect(activation).toBe('relu'); // BatchNorm and ReLU folded into the convolution
    expect(info.padTop).toBe(1);
    expect(graph.values[w]!.shape).toEqual([4, 3, 3, 3]);
    expect(graph.values[w]!.data).toHaveLength(108);
    expect(graph.values[b!]!.data).toHaveLength(4);
    expect(graph.values[graph.input]!.data).toBeNull();
    expect(graph.values[graph.output]!.shape).toEqual([1, 2, 3, 3]);
    expect(graph.output).toBe(graph.nodes[2]!.output);
    expect(input).toHaveLength(108);
    expect(output).toHaveLength(18);
  });
});
