import type { Rgb } from './color.js';

/**
 * COCO's 17 person keypoints in the dataset's order (`person_keypoints_*.json`, category
 * "person"): the order of a COCO pose network's output heatmaps (HRNet's too).
 */
export const COCO_KEYPOINT_NAMES: readonly string[] = Object.freeze([
  'nose',
  'left_eye',
  'right_eye',
  'left_ear',
  'right_ear',
  'left_shoulder',
  'right_shoulder',
  'left_elbow',
  'right_elbow',
  'left_wrist',
  'right_wrist',
  'left_hip',
  'right_hip',
  'left_knee',
  'right_knee',
  'left_ankle',
  'right_ankle',
]);

/**
 * COCO's keypoint skeleton: the 19 limbs of the dataset's `skeleton` field, in its order,
 * converted from its 1-based indices to 0-based indices into {@link COCO_KEYPOINT_NAMES}
 * (`[16, 14]` there is `[15, 13]`, left ankle – left knee, here).
 */
export const COCO_SKELETON: readonly (readonly [number, number])[] = Object.freeze([
  [15, 13],
  [13, 11],
  [16, 14],
  [14, 12],
  [11, 12],
  [5, 11],
  [6, 12],
  [5, 6],
  [5, 7],
  [6, 8],
  [7, 9],
  [8, 10],
  [1, 2],
  [0, 1],
  [0, 2],
  [1, 3],
  [2, 4],
  [3, 5],
  [4, 6],
] as const);

const CENTRE: Rgb = [255, 255, 255];
const LEFT: Rgb = [0, 200, 255];
const RIGHT: Rgb = [255, 128, 0];

function side(k: number): Rgb {
  return k === 0 ? CENTRE : k % 2 === 1 ? LEFT : RIGHT;
}

/**
 * A colour per COCO keypoint — this package's own choice, not COCO's: left-side points
 * (odd indices) sky blue `[0, 200, 255]`, right-side points orange `[255, 128, 0]`, the nose white.
 */
export const COCO_KEYPOINT_COLORS: readonly Rgb[] = Object.freeze(COCO_KEYPOINT_NAMES.map((_, k) => side(k)));

/**
 * A colour per limb of {@link COCO_SKELETON} (this package's choice): a limb's colour is its
 * side's when both ends are on one side, white otherwise (shoulders, hips, face to shoulders).
 */
export const COCO_SKELETON_COLORS: readonly Rgb[] = Object.freeze(
  COCO_SKELETON.map(([a, b]) => {
    const ca = side(a);
    return a !== 0 && ca === side(b) ? ca : CENTRE;
  }),
);
