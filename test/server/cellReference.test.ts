import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_COLUMN, MAX_ROW, parseCellReference } from '../../server/import/cellReference.js';
import { escapeXmlText } from '../../server/import/xmlScanner.js';

const SEED = 20261207;
/** What XML 1.0 cannot hold (C0 controls but tab and newlines, U+FFFE/F, lone surrogates). */
const NOT_XML =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The reference form as a pattern: what parseCellReference (written by hand for speed) must accept. */
function reference(text: string): { column: number; row: number } | undefined {
  const m = /^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$/.exec(text);
  if (m === null) return undefined;
  const column = [...m[1]!.toUpperCase()].reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0);
  const row = Number(m[2]);
  return column <= MAX_COLUMN && row >= 1 && row <= MAX_ROW ? { column, row } : undefined;
}

describe('parseCellReference', () => {
  it('reads the grid and refuses what lies outside it', () => {
    expect(parseCellReference('A1')).toEqual({ column: 1, row: 1 });
    expect(parseCellReference('$B$7')).toEqual({ column: 2, row: 7 });
    expect(parseCellReference('xfd1048576')).toEqual({ column: MAX_COLUMN, row: MAX_ROW });
    expect(parseCellReference('A01')).toEqual({ column: 1, row: 1 });
    for (const outside of ['XFE1', 'A0', 'A1048577', 'AAAA1', 'A12345678', 'ZZZZZ1', 'A1e15', '', 'A', '7'])
      expect(parseCellReference(outside), outside).toBeUndefined();
    for (const malformed of ['$$A1', 'A$$1', 'A1$', ' A1', 'A1 ', 'A-1', 'Ａ1', 'A１'])
      expect(parseCellReference(malformed), malformed).toBeUndefined();
  });

  it('accepts exactly what the reference pattern does (property)', () => {
    const unit = fc.constantFrom(...'$AaZzXxFfDd0123456789 @[`{É\u0141ａ１');
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 13 }), (units) => {
        const text = units.join('');
        expect(parseCellReference(text)).toEqual(reference(text));
      }),
      { seed: SEED, numRuns: 20_000 },
    );
  });
});

describe('escapeXmlText', () => {
  it('escapes markup and strips what XML cannot hold, whatever the text (property)', () => {
    const unit = fc.constantFrom(
      ...['a', '客', '&', '<', '>', '"', '\n', '\r', '\t', '\u0001', '\u000b'],
      '\ufffe',
      '\ud83d',
      '\ude00',
      '_',
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 10 }), (units) => {
        const text = units.join('');
        const expected = text
          .replace(NOT_XML, '')
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;');
        expect(escapeXmlText(text)).toBe(expected);
      }),
      { seed: SEED, numRuns: 20_000 },
    );
  });
});
