/*
 * The pose and segmentation tasks' pre- and post-processing: the same in the Node and the
 * browser entry.
 */

export {
  averageFlipped,
  COCO_FLIP_PAIRS,
  decodePoses,
  type FinalPreds,
  type FinalPredsOptions,
  type FlipTestOptions,
  flipBack,
  getFinalPreds,
  getMaxPreds,
  type Heatmaps,
  type MaxPreds,
  poseFlipTest,
  shiftHeatmap,
} from './keypoints.js';
export {
  type Affine,
  affineFromPoints,
  applyAffine,
  boxToCenterScale,
  type CenterScale,
  getAffineTransform,
  invertAffine,
  POSE_MEAN,
  POSE_STD,
  type PoseBox,
  type PoseCrop,
  type PoseInput,
  type PoseInputArray,
  poseCrop,
  poseInput,
  poseInputArray,
  warpAffine,
} from './pose.js';
export {
  type CvPrecision,
  cvResizeLinear,
  type SegmentationProgress,
  type SegmentationResult,
  type SlidingWindowOptions,
  segmentSlidingWindow,
} from './segmentation.js';
export { segmentWholeImage, type WholeImageOptions } from './segmentation-whole.js';
