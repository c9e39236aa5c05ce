/** The seed example's SKConv: features 256, M = 2, G = 1, r = 2 (d = 128), input 24×24. */
export const SEED = { features: 256, M: 2, G: 1, r: 2, size: 24 } as const;
