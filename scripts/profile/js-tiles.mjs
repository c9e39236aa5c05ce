// Register-tile shapes for a scalar JavaScript GEMM micro-kernel: r × c accumulators over depth
// 256, operands loaded from masked Float64Arrays exactly as backend-js's micro-kernels read their
// packed panels (gemm.ts), on a cache-resident product of about 120 × 192 × 256. Multiply-adds
// per second, medians of 21 rounds that alternate the shapes. backend-js uses 3 × 2 (and 2 × 2
// for products of few rows); this shows why no wider tile is used on V8.
//   node scripts/profile/js-tiles.mjs [RxC ...]   (default: 2x2 3x2 2x3 3x3 4x2 4x3 4x4)
// Each kernel is named microRxC, so its optimised code can be read:
//   node --print-opt-code --print-opt-code-filter=micro3x3 scripts/profile/js-tiles.mjs 3x3 \
//     | grep -c 'vaddsd xmm[0-9]*,xmm[0-9]*,\[rbp'
// counts the accumulators V8 keeps on the stack instead of in a register.

import { median } from './timing.mjs';

const KC = 256;
const PACK_A = new Float64Array(1 << 15);
const PACK_B = new Float64Array(1 << 18);
for (let i = 0; i < PACK_A.length; i++) PACK_A[i] = Math.sin(i);
for (let i = 0; i < PACK_B.length; i++) PACK_B[i] = Math.cos(i);
const tile = new Float64Array(16);

/** The r × c micro-kernel, written out as backend-js writes its 3 × 2 one (literal masks, no loops over the tile). */
function microKernel(r, c) {
  const lines = [];
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) lines.push(`let c${i}${j} = 0;`);
  lines.push('for (let p = 0; p < kc; p++) {');
  for (let j = 0; j < c; j++) lines.push(`  const b${j} = PACK_B[(bi + ${j}) & 0x3ffff];`);
  for (let i = 0; i < r; i++) lines.push(`  const a${i} = PACK_A[(ai + ${i}) & 0x7fff];`);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) lines.push(`  c${i}${j} += a${i} * b${j};`);
  lines.push(`  ai = (ai + ${r}) | 0;`, `  bi = (bi + ${c}) | 0;`, '}');
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) lines.push(`tile[${i * c + j}] = c${i}${j};`);
  const source = `return function micro${r}x${c}(kc, ai, bi) {\n${lines.join('\n')}\n};`;
  return new Function('PACK_A', 'PACK_B', 'tile', source)(PACK_A, PACK_B, tile);
}

/** One product of ⌊120 / r⌋ row panels by ⌊192 / c⌋ column panels; returns its multiply-adds. */
function product(micro, r, c) {
  const rowPanels = Math.floor(120 / r);
  const colPanels = Math.floor(192 / c);
  for (let jr = 0, bi = 0; jr < colPanels; jr++, bi += c * KC)
    for (let ir = 0, ai = 0; ir < rowPanels; ir++, ai += r * KC) micro(KC, ai, bi);
  return rowPanels * colPanels * r * c * KC;
}

const args = process.argv.slice(2);
const shapes = (args.length > 0 ? args : ['2x2', '3x2', '2x3', '3x3', '4x2', '4x3', '4x4']).map((s) => {
  const [r, c] = s.split('x').map(Number);
  if (!(r >= 1 && r <= 4 && c >= 1 && c <= 4))
    throw new Error(`js-tiles: a shape is RxC with R, C in 1..4; got "${s}"`);
  return { r, c, micro: microKernel(r, c), rates: [] };
});
for (const s of shapes) for (let i = 0; i < 30; i++) product(s.micro, s.r, s.c);
for (let round = 0; round < 21; round++) {
  for (const s of shapes) {
    const t0 = performance.now();
    let macs = 0;
    for (let i = 0; i < 20; i++) macs += product(s.micro, s.r, s.c);
    s.rates.push(macs / ((performance.now() - t0) / 1e3) / 1e9);
  }
}
for (const { r, c, rates } of shapes) {
  const loads = (r + c) / (r * c);
  process.stdout.write(
    `${r} × ${c} tile (${r * c} accumulators, ${loads.toFixed(2)} loads a multiply-add): median ${median(rates).toFixed(2)} GMAC/s (range ${Math.min(...rates).toFixed(2)}–${Math.max(...rates).toFixed(2)})\n`,
  );
}
