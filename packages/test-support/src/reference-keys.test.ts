import { describe, expect, it } from 'vitest';
import { referenceKeys } from './reference-keys.js';

describe('referenceKeys', () => {
  it('reads key<TAB>[shape] lines in order; under and stripPrefix select and rename', () => {
    const all = referenceKeys('spnet50_ade20k');
    expect(all[0][0]).toMatch(/^module\.pretrained\./);
    expect(all.every(([, s]) => Array.isArray(s))).toBe(true);
    const stripped = referenceKeys('spnet50_ade20k', { stripPrefix: 'module.' });
    expect(stripped.map(([k]) => k)).toEqual(all.map(([k]) => k.slice('module.'.length)));
    const pretrained = referenceKeys('spnet50_ade20k', { under: 'module.pretrained.' });
    expect(pretrained.length).toBe(all.filter(([k]) => k.startsWith('module.pretrained.')).length);
    expect(pretrained[0][0]).toBe(all[0][0].slice('module.pretrained.'.length));
  });

  it('a missing list fails, naming the path', () => {
    expect(() => referenceKeys('no_such_list')).toThrow(
      /reference key list not found at .*no_such_list\.txt/,
    );
  });
});
