import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type Affine,
  applyAffine,
  boxToCenterScale,
  getAffineTransform,
  invertAffine,
  type PoseBox,
  poseCrop,
  poseInputArray,
  warpAffine,
} from './pose.js';
import { byteDiff, FIXTURES, fixtureImage } from './test-support/fixtures.js';

const DIR = `${FIXTURES}pose-seg/`;
const man = JSON.parse(readFileSync(`${DIR}manifest.json`, 'utf8'));
const u8 = (name: string) => new Uint8Array(readFileSync(DIR + name));
const f32 = (name: string) => {
  const b = readFileSync(DIR + name);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

interface WarpCase {
  box: PoseBox;
  size: [number, number];
  center: [number, number];
  scale: [number, number];
  matrix: Affine;
  inverse: Affine;
  file: string;
}

describe('HRNet box → centre/scale → affine → warp against the reference + OpenCV 4.6 (fixtures/make_pose_seg_fixtures.py)', () => {
  for (const r of man.pose.rotated as {
    center: [number, number];
    scale: [number, number];
    rot: number;
    size: [number, number];
    matrix: Affine;
    inverse: Affine;
  }[])
    it(`rotated by ${r.rot}° (centre ${r.center.join(', ')}): both matrices equal the reference's (cv2.getAffineTransform) bit for bit`, () => {
      expect(getAffineTransform(r.center, r.scale, r.rot, r.size)).toEqual(r.matrix);
      expect(getAffineTransform(r.center, r.scale, r.rot, r.size, { inv: true })).toEqual(r.inverse);
    });
  for (const c of man.pose.warps as WarpCase[]) {
    const label = `box [${c.box.join(', ')}] → ${c.size.join('×')}`;
    it(`${label}: centre, scale and both matrices equal the reference's bit for bit`, () => {
      const cs = boxToCenterScale(c.box, c.size);
      expect(cs.center).toEqual(c.center);
      expect(cs.scale).toEqual(c.scale);
      expect(getAffineTransform(cs.center, cs.scale, 0, c.size)).toEqual(c.matrix);
      expect(getAffineTransform(cs.center, cs.scale, 0, c.size, { inv: true })).toEqual(c.inverse);
    });
    it(`${label}: the crop equals cv2.warpAffine's bytes`, async () => {
      const img = await fixtureImage(man.pose.image);
      const crop = poseCrop(img, c.box, c.size);
      expect([crop.image.width, crop.image.height]).toEqual(c.size);
      expect(byteDiff(crop.image.data, u8(c.file))).toEqual({ count: 0, max: 0, first: -1 });
    });
  }

  it('warpAffine alone: random matrices (shrink, enlarge, shear, mirror) on a random image equal cv2 byte for byte', () => {
    const [w, h] = man.pose.randomSource;
    const src = { width: w, height: h, data: u8('random-src.u8') };
    for (const r of man.pose.randomWarps as { matrix: Affine; size: [number, number]; file: string }[]) {
      const out = warpAffine(src, r.matrix, r.size[0], r.size[1]);
      expect(byteDiff(out.data, u8(r.file))).toEqual({ count: 0, max: 0, first: -1 });
    }
  });

  it("the pose input tensor equals ToTensor + Normalize of cv2's crop bit for bit", async () => {
    const img = await fixtureImage(man.pose.image);
    const c = man.pose.warps[man.pose.tensor.warp] as WarpCase;
    const { data, shape, crops } = poseInputArray(img, [c.box, [0, 0, 10, 10]], c.size);
    expect(shape).toEqual([2, 3, c.size[1], c.size[0]]);
    expect(crops[0].matrix).toEqual(c.matrix);
    const want = f32(man.pose.tensor.file);
    expect(data.subarray(0, want.length)).toEqual(want);
  });

  it('the inverse maps crop points back onto the image points they came from', () => {
    const cs = boxToCenterScale([10, 20, 30, 80], [192, 256]);
    // aspect 0.75: w 30 < 0.75·80 = 60 → w = 60; scale = (60, 80)/200 · 1.25
    expect(cs.center).toEqual([25, 60]);
    expect(cs.scale).toEqual([Math.fround(0.375), 0.5]);
    const m = getAffineTransform(cs.center, cs.scale, 0, [192, 256]);
    const inv = getAffineTransform(cs.center, cs.scale, 0, [192, 256], { inv: true });
    const [x, y] = applyAffine(m, 25, 60);
    expect(x).toBeCloseTo(96, 12);
    expect(y).toBeCloseTo(128, 12);
    const [bx, by] = applyAffine(inv, 0, 0);
    expect(bx).toBeCloseTo(25 - 37.5, 10);
    expect(by).toBeCloseTo(60 - 50, 10);
    const i2 = invertAffine(m);
    for (let k = 0; k < 6; k++) expect(i2[k]).toBeCloseTo(inv[k], 10);
  });

  it('refuses bad boxes and sizes by name', () => {
    expect(() => boxToCenterScale([0, 0, Number.NaN, 1], [192, 256])).toThrow(/boxToCenterScale/);
    const img = { width: 2, height: 2, data: new Uint8Array(12) };
    expect(() => warpAffine(img, [1, 0, 0, 0, 1, 0], 0, 3)).toThrow(/warpAffine/);
  });
});
