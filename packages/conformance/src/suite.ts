/**
 * The suite's groups of cases, by title: what `describeConformance` (the `./vitest` entry)
 * registers and `runConformance` runs. No test framework is imported here.
 *
 * @module
 */
import { convCases, matmulCases } from './cases/conv.js';
import { batchNormCases, binaryCases, unaryCases } from './cases/elementwise.js';
import { engineCases } from './cases/engine.js';
import { errorCases } from './cases/errors.js';
import { handDerivedCases } from './cases/hand-derived.js';
import { largeCases } from './cases/large.js';
import { flipCases, layoutCases, reduceCases, softmaxArgmaxCases } from './cases/layout.js';
import { moduleCases } from './cases/modules.js';
import { nnCases } from './cases/nn.js';
import { adaptiveCases, poolCases, resizeCases } from './cases/spatial.js';
import type { Case } from './runner.js';

/** Every group of cases, by title. */
export function conformanceGroups(backend: string): [string, Case[]][] {
  return [
    ['conv2d', convCases()],
    ['matmul', matmulCases()],
    ['long sums (accumulation bound)', largeCases()],
    ['unary', unaryCases()],
    ['binary', binaryCases()],
    ['batchNorm', batchNormCases()],
    ['pool2d', poolCases()],
    ['adaptiveAvgPool2d', adaptiveCases()],
    ['resize', resizeCases()],
    ['adaptive pooling and align_corners bilinear, hand-derived (SPNet sizes)', handDerivedCases()],
    ['reduce', reduceCases()],
    ['softmax and argmax', softmaxArgmaxCases()],
    ['concat, slice, transpose, pad, cast', layoutCases()],
    ['flip', flipCases()],
    ['argument errors', errorCases()],
    ['engine', engineCases(backend)],
    ['nn', nnCases()],
    ['modules: call, fusion, capture, trace', moduleCases()],
  ];
}
