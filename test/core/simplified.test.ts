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

  it('gives exactly what the converter gives for every entry of its dictionaries, alone and inside a name', () => {
    // The fast path skips text with no marked character: every phrase must still reach the converter.
    const configs = (OpenCC.Locale as unknown as { configs: Record<string, unknown> }).configs;
    const sources: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') for (const entry of value.split('|')) sources.push(entry.split(' ')[0]!);
      else if (Array.isArray(value)) for (const item of value) collect(item);
      else if (typeof value === 'object' && value !== null)
        for (const item of Object.values(value)) collect(item);
    };
    collect(configs['hk2s']);
    expect(sources.length).toBeGreaterThan(1000);
    const differ: string[] = [];
    for (const source of sources) {
      for (const text of [source, `上海${source}有限公司`, `有${source}`]) {
        if (toSimplified(text) !== convert(text)) differ.push(text);
      }
    }
    expect(differ).toEqual([]);
  });

  it('leaves common simplified company names to the fast path unchanged', () => {
    for (const text of ['上海华信科技有限公司', '王伟', '北京南方海天贸易有限公司', '深圳市明英成有限公司']) {
      expect(toSimplified(text)).toBe(text);
      expect(convert(text)).toBe(text);
    }
  });
});
