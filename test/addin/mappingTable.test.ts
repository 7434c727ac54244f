/**
 * addin/mappingTable.ts without a browser: what the Prepare step's confidence column says for each
 * column under the person's choices.
 */
import { describe, expect, it } from 'vitest';
import { confidenceTexts } from '../../addin/mappingTable.js';
import { describeSheet, type SheetSetup } from '../../core/sheetSetup.js';

function setupOf(header: string[]): SheetSetup {
  const setup = describeSheet('报备', [
    header,
    ['上海华信科技有限公司', '企业', '021-12345678', '13812345678', '王磊'],
  ]);
  if (setup === null) throw new Error('no header');
  return setup;
}

describe('the confidence column', () => {
  it('[R8] says the 电话 beside 手机 is read when the phone cell is empty, while the phone is mapped', () => {
    const setup = setupOf(['客户名称', '客户类型', '电话', '手机', '报备人']);
    const detected = setup.columns.map((c) => c.field);
    expect(confidenceTexts(setup.columns, detected, 'zh')).toEqual([
      '100%',
      '100%',
      '备用：“联系电话”列为空时读此列',
      '100%',
      '100%',
    ]);
    expect(confidenceTexts(setup.columns, detected, 'en')[2]).toBe(
      'fallback: read when the “Phone” cell is empty',
    );
    // 手机 not imported: 电话 is only an unmapped column again.
    const withoutMobile = detected.map((f) => (f === 'contactPhone' ? null : f));
    expect(confidenceTexts(setup.columns, withoutMobile, 'zh').slice(2, 4)).toEqual(['—', '手动']);
  });
});
