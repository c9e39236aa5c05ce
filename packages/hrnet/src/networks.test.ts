import { getModel, listModels, nn, summary } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  HighResolutionModule,
  HRNET_GFLOPS_CONVENTION,
  hrnet_w18_cls,
  hrnet_w30_cls,
  hrnet_w32_cls,
  hrnet_w32_pose,
  hrnet_w40_cls,
  hrnet_w44_cls,
  hrnet_w48_cls,
  hrnet_w48_pose,
  hrnet_w48_seg,
  hrnet_w64_cls,
} from './index.js';
import { countParameters, referenceKeys, useJs } from './test-support/helpers.js';

beforeAll(useJs);

const listed = (net: nn.AnyModule) => [...net.stateDict()].map(([k, t]) => [k, [...t.shape]]);

describe('keys, shapes and parameter counts equal the reference checkpoints', () => {
  const cases: [string, () => nn.AnyModule, number, number][] = [
    ['pose_hrnet_w32', () => hrnet_w32_pose(), 1754, 28_536_113],
    ['pose_hrnet_w48', () => hrnet_w48_pose(), 1754, 63_595_745],
    ['cls_hrnet_w18', () => hrnet_w18_cls(), 1956, 21_299_004],
    ['cls_hrnet_w30', () => hrnet_w30_cls(), 1956, 37_712_220],
    ['cls_hrnet_w32', () => hrnet_w32_cls(), 1956, 41_232_680],
    ['cls_hrnet_w40', () => hrnet_w40_cls(), 1956, 57_557_160],
    ['cls_hrnet_w44', () => hrnet_w44_cls(), 1956, 67_064_984],
    ['cls_hrnet_w48', () => hrnet_w48_cls(), 1956, 77_469_864],
    ['cls_hrnet_w64', () => hrnet_w64_cls(), 1956, 128_059_944],
    ['seg_hrnet_w48_cityscapes', () => hrnet_w48_seg(), 1839, 65_859_379],
  ];
  for (const [name, make, keys, params] of cases) {
    it(`${name}: ${keys} keys in the reference order, ${params.toLocaleString('en')} parameters`, () => {
      const ref = referenceKeys(name);
      expect(ref.length).toBe(keys);
      expect(countParameters(ref)).toBe(params);
      const net = nn.withoutInit(make); // placeholders: no parameter memory, no random numbers
      expect(listed(net)).toEqual(ref);
      expect(net.numParameters()).toBe(params);
      net.dispose();
    });
  }

  it('pose: the last module of stage 4 fuses into branch 0 only (stage4.2.fuse_layers.0.{1,2,3})', () => {
    const net = nn.withoutInit(() => hrnet_w32_pose());
    const fuse = [...net.stateDict().keys()]
      .filter((k) => k.startsWith('stage4.2.fuse_layers.'))
      .map((k) => k.split('.').slice(0, 5).join('.'));
    expect([...new Set(fuse)]).toEqual([
      'stage4.2.fuse_layers.0.1',
      'stage4.2.fuse_layers.0.2',
      'stage4.2.fuse_layers.0.3',
    ]);
    const last = net.stages[2].modules[2];
    expect(last).toBeInstanceOf(HighResolutionModule);
    expect(last.multiScaleOutput).toBe(false);
    expect(net.stages[2].modules[1].multiScaleOutput).toBe(true);
    net.dispose();
  });
});

describe('multiply-adds (summary, no kernels run) give the published GFLOPs (÷ 2^30)', () => {
  // The HRNet repositories' get_model_summary: conv + Linear multiply-adds / 1024³.
  const cases: [string, () => nn.AnyModule, [number, number], number, number][] = [
    ['pose W32 256×192', () => hrnet_w32_pose(), [256, 192], 7_645_003_776, 7.1],
    ['pose W32 384×288', () => hrnet_w32_pose(), [384, 288], 17_201_258_496, 16.0],
    ['pose W48 256×192', () => hrnet_w48_pose(), [256, 192], 15_691_825_152, 14.6],
    ['pose W48 384×288', () => hrnet_w48_pose(), [384, 288], 35_306_606_592, 32.9],
    ['cls W18 224×224', () => hrnet_w18_cls(), [224, 224], 4_283_537_072, 3.99],
    ['cls W32 224×224', () => hrnet_w32_cls(), [224, 224], 8_921_133_056, 8.31],
    ['cls W48 224×224', () => hrnet_w48_cls(), [224, 224], 17_277_996_032, 16.1],
  ];
  for (const [name, make, [h, w], macs, gflops] of cases) {
    it(`${name}: ${macs.toLocaleString('en')} multiply-adds = ${gflops} GFLOPs as published`, () => {
      const net = nn.withoutInit(make);
      const s = summary(net, [1, 3, h, w]);
      expect(s.totalMultiplyAdds).toBe(macs);
      // Rounded as the READMEs print them (one decimal, or two for W18/W32-C).
      const digits = String(gflops).split('.')[1]?.length ?? 0;
      expect((s.totalMultiplyAdds / 2 ** 30).toFixed(digits === 0 ? 1 : digits)).toBe(
        gflops.toFixed(digits === 0 ? 1 : digits),
      );
      net.dispose();
    });
  }
});

describe('registry', () => {
  it('registers the pose, classification and segmentation ids with the reference facts', () => {
    const ids = listModels()
      .filter((e) => e.package === '@kernelzoo/hrnet')
      .map((e) => e.id);
    expect(ids).toEqual([
      'hrnet_w32_pose',
      'hrnet_w48_pose',
      'hrnet_w32_pose_384x288',
      'hrnet_w48_pose_384x288',
      'hrnet_w18_cls',
      'hrnet_w32_cls',
      'hrnet_w48_cls',
      'hrnet_w48_seg',
    ]);
    const p = getModel('hrnet_w48_pose_384x288');
    expect(p.task).toBe('pose');
    expect(p.inputSize).toEqual([384, 288]);
    expect(p.numClasses).toBe(17);
    expect(p.reference.gflops).toBe(32.9);
    expect(p.reference.gflopsConvention).toContain(HRNET_GFLOPS_CONVENTION);
    expect(getModel('hrnet_w48_seg').numClasses).toBe(19);
    expect(getModel('hrnet_w18_cls').preprocessing.resize).toBe('shorter-side');
  });

  it("every entry's build() gives the parameters its facts state, and its input size the published GFLOPs", () => {
    for (const e of listModels().filter((x) => x.package === '@kernelzoo/hrnet')) {
      const net = nn.withoutInit(e.build);
      expect(net.numParameters(), e.id).toBe(e.reference.parameters);
      if (typeof e.reference.gflops === 'number') {
        const g = summary(net, [1, 3, ...e.inputSize]).totalMultiplyAdds / 2 ** 30;
        expect(Math.abs(g - e.reference.gflops), e.id).toBeLessThan(0.05);
      }
      net.dispose();
    }
  });
});
