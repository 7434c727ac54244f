import fc from 'fast-check';
import * as OpenCC from 'opencc-js/t2cn';
import { describe, expect, it } from 'vitest';
import { toSimplified } from '../../core/simplified.js';

/** The converter toSimplified stands for, called on every text. */
const convert = OpenCC.Converter({ from: 'hk', to: 'cn' });

describe('toSimplified', () => {
  it('converts traditional names and leaves simplified, Latin and digit text as it is', () => {
    expect(toSimplified('上海華信科技有限公司')).toBe('上海华信科技有限公司');
    expect(toSimplified('臺灣積體電路製造')).toBe(convert('臺灣積體電路製造'));
    expect(toSimplified('上海华信科技有限公司')).toBe('上海华信科技有限公司');
    expect(toSimplified('ACME Co., Ltd. 0755-12345678')).toBe('ACME Co., Ltd. 0755-12345678');
  });

  it('gives exactly what the converter gives for every character of the Basic Multilingual Plane', () => {
    const differ: string[] = [];
    for (let code = 0; code < 0x10000; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const text = String.fromCharCode(code);
      if (toSimplified(text) !== convert(text)) differ.push(text);
    }
    expect(differ).toEqual([]);
  });

  it('gives exactly what the converter gives for mixed text, phrases and astral characters (property)', () => {
    const pieces = [
      '乾隆',
      '乾燥',
      '著名',
      '後',
      '后',
      '華',
      '华',
      '臺',
      '😀',
      '𠀋',
      'a',
      ' ',
      '（',
      '公司',
      '髮',
      '發',
    ];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ unit: 'grapheme', maxLength: 4 })), {
          maxLength: 12,
        }),
        (parts) => {
          const text = parts.join('');
          expect(toSimplified(text)).toBe(convert(text));
        },
      ),
      { seed: 20261123, numRuns: 2000 },
    );
  });
});
