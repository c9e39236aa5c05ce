/**
 * `@kernelzoo/sknet`: Selective Kernel Networks (Li et al., CVPR 2019) for kernelzoo — the
 * {@link SKConv} building block, mirroring the PyTorch reference so checkpoints load by key.
 *
 * @packageDocumentation
 */
export { SKConv, type SKConvOptions, type SKConvResult } from './skconv.js';
