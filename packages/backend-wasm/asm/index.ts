// AssemblyScript entry point of the kernels module: re-exports every kernel.

export * from './direct';
export * from './gemm';
export * from './kernels';
export { set_slot } from './slot';
export * from './winograd';
