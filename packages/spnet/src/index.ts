/**
 * `@kernelzoo/spnet`: Strip Pooling networks (Hou et al., CVPR 2020; `Andrew-Qibin/SPNet`) —
 * the strip pooling module {@link SPBlock} (SPM, the backbone gate), the mixed pooling module
 * {@link StripPooling} (MPM), {@link SPHead}, the auxiliary {@link FCNHead} and the whole
 * {@link SPNet}, with the reference checkpoints' keys (without `module.`).
 *
 * Importing the package registers `spnet50_ade20k`, `spnet101_ade20k` and
 * `spnet101_cityscapes` in core's model registry ({@link SPNET_MODELS}).
 *
 * @packageDocumentation
 */
import './register.js';

export { type StripFeatureNames, stripFeatureNames } from './features.js';
export { SPNET_BASE_SIZE, SPNET_MODELS } from './register.js';
export { SPBlock } from './spblock.js';
export {
  Dropout2d,
  FCNHead,
  SPHead,
  SPM_GATE,
  SPNet,
  type SPNetDepth,
  type SPNetOptions,
  spmPlacement,
  spnet50,
  spnet101,
  spnetBackbone,
} from './spnet.js';
export { StripPooling } from './strip-pooling.js';
