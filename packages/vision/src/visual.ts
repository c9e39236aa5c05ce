/*
 * Segmentation palettes, COCO keypoints, heatmaps and the drawing types: the same in the Node and
 * the browser entry (each entry adds its own `createDrawing` and `drawPose`).
 */

export { COCO_KEYPOINT_COLORS, COCO_KEYPOINT_NAMES, COCO_SKELETON, COCO_SKELETON_COLORS } from './coco.js';
export { type Rgb, VIRIDIS } from './color.js';
export type { CircleStyle, Drawing, LineStyle, PoseDrawOptions } from './draw.js';
export { type Heatmap, type HeatmapOptions, renderHeatmap, renderHeatmapTensor } from './heatmap.js';
export {
  ADE20K_LABELS,
  ADE20K_PALETTE,
  CITYSCAPES_LABELS,
  CITYSCAPES_PALETTE,
} from './segmentation-labels.js';
export {
  colorizeLabels,
  type LabelColorOptions,
  type LabelMap,
  type OverlayOptions,
  overlayLabels,
} from './segmentation-overlay.js';
