import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cellText, isPlaceholder, PLACEHOLDER_WORDS } from '../../core/cellText.js';
import { toHalfWidth } from '../../core/halfWidth.js';
import { toSimplified } from '../../core/simplified.js';
import { creditCodeCheckChar } from '../../core/creditCode.js';
import { DEFAULT_POLICY, resolvePolicy } from '../../core/policy.js';
import { identityKeys } from '../../core/matching.js';
import { parseRow, type RowContext } from '../../core/row.js';
import { FIELDS, registrationSchema, type RawRow } from '../../core/schema.js';

const SEED = 20261123;
const ctx: RowContext = { referenceDate: '2026-11-23', policy: DEFAULT_POLICY };
const CREDIT_CODE = `91310115037061499${creditCodeCheckChar('91310115037061499')}`;

/** A complete, valid enterprise row; tests override one thing at a time. */
function enterprise(overrides: RawRow = {}): RawRow {
  return {
    customerName: '上海华信科技有限公司',
    customerType: '企业',
    creditCode: CREDIT_CODE,
    contactName: '王磊',
    contactPhone: '13812345678',
    region: '上海',
    source: '展会',
    registrant: '张伟',
    registeredAt: '2026-11-20',
    ...overrides,
  };
}

function individual(overrides: RawRow = {}): RawRow {
  return {
    customerName: '朱勇',
    customerType: '个人',
    contactPhone: '182-8841-9050',
    source: '渠道推荐',
    registrant: '李娜',
    ...overrides,
  };
}

function errorFields(raw: RawRow, context: RowContext = ctx): (string | undefined)[] {
  return parseRow(raw, context).errors.map((p) => p.field);
}

describe('parseRow', () => {
  it('normalises a complete row', () => {
    const result = parseRow(
      {
        customerName: ' 合肥光桥 贸易有限公司 ',
        customerType: '企業',
        creditCode: ` ${CREDIT_CODE.toLowerCase()} `,
        contactName: '马  海燕',
        contactTitle: ' 采购经理 ',
        contactPhone: '+86 152 8199 1234',
        email: ' Ma.HaiYan@Example.COM ',
        region: '合肥',
        address: '合肥市蜀山区长江西路 1 号',
        industry: '贸易',
        source: '老客户介绍',
        need: '智能照明改造',
        expectedAmount: '224万',
        expectedUnitPrice: '¥1,200',
        expectedSignDate: '2027年1月16日',
        registrant: '杨 帆',
        team: '华东一部',
        channel: '某某中介',
        registeredAt: '2026年3月6日 9:30',
        firstVisitAt: 46091,
        householdOf: '马  刚',
        notes: '  老客户介绍  ',
      },
      ctx,
    );
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.registration).toEqual({
      customerName: '合肥光桥贸易有限公司',
      customerType: 'enterprise',
      creditCode: CREDIT_CODE,
      contactName: '马海燕',
      contactTitle: '采购经理',
      contactPhone: '15281991234',
      email: 'ma.haiyan@example.com',
      region: '合肥',
      address: '合肥市蜀山区长江西路 1 号',
      industry: '贸易',
      source: '老客户介绍',
      need: '智能照明改造',
      expectedAmount: 2_240_000,
      expectedUnitPrice: 1_200,
      expectedSignDate: '2027-01-16',
      registrant: '杨帆',
      team: '华东一部',
      channel: '某某中介',
      registeredAt: '2026-03-06T01:30:00.000Z',
      firstVisitAt: '2026-03-09T16:00:00.000Z',
      householdOf: '马刚',
      notes: '老客户介绍',
    });
  });

  it('reads numbers typed into text cells as their digits (phone, credit code)', () => {
    const result = parseRow(enterprise({ contactPhone: 13812345678, creditCode: 110108000000016 }), ctx);
    expect(result.errors).toEqual([]);
    expect(result.registration?.contactPhone).toBe('13812345678');
    expect(result.registration?.creditCode).toBe('110108000000016');
  });

  it('treats blank and whitespace-only cells as absent', () => {
    const result = parseRow(enterprise({ contactTitle: '   ', email: '', notes: null, need: '\u3000' }), ctx);
    expect(result.errors).toEqual([]);
    expect(result.registration).not.toHaveProperty('contactTitle');
    expect(result.registration).not.toHaveProperty('email');
    expect(result.registration).not.toHaveProperty('notes');
    expect(result.registration).not.toHaveProperty('need');
  });

  it('reports every bad field, each with its canonical field name', () => {
    const result = parseRow(
      enterprise({
        creditCode: '91350100M000100Y44',
        contactPhone: '1381234',
        email: 'not-an-email',
        expectedAmount: '-5万',
        expectedSignDate: '2026-02-30',
        registeredAt: '2026年13月45日',
        customerType: '合作伙伴',
      }),
      ctx,
    );
    expect(result.registration).toBeNull();
    expect(result.errors.map((p) => [p.field, p.code])).toEqual([
      ['customerType', 'customerType.invalid'],
      ['creditCode', 'creditCode.checksum'],
      ['contactPhone', 'phone.invalid'],
      ['email', 'email.invalid'],
      ['expectedAmount', 'money.invalid'],
      ['expectedSignDate', 'date.invalid'],
      ['registeredAt', 'date.invalid'],
    ]);
    for (const p of result.errors) {
      expect(p.message).not.toBe('');
      expect(p.messageEn).not.toBe('');
    }
  });

  it('reports an over-long field with field.tooLong naming the limit', () => {
    const result = parseRow(
      enterprise({ customerName: `华信${'科'.repeat(120)}有限公司`, notes: 'x'.repeat(1001) }),
      ctx,
    );
    expect(result.errors.map((p) => [p.field, p.code])).toEqual([
      ['customerName', 'field.tooLong'],
      ['notes', 'field.tooLong'],
    ]);
    expect(result.errors[0]?.message).toContain('100');
    expect(result.errors[1]?.messageEn).toContain('1000');
  });

  it('reports an over-long phone as too long rather than parsing it', () => {
    expect(parseRow(enterprise({ contactPhone: '1'.repeat(41) }), ctx).errors.map((p) => p.code)).toEqual([
      'field.tooLong',
    ]);
  });

  describe('customer type', () => {
    it.each([
      ['企业', 'enterprise'],
      ['公司', 'enterprise'],
      ['单位', 'enterprise'],
      ['企業', 'enterprise'],
      ['Enterprise', 'enterprise'],
      ['company', 'enterprise'],
      ['个人', 'individual'],
      ['個人', 'individual'],
      ['自然人', 'individual'],
      ['individual', 'individual'],
      ['Person', 'individual'],
      ['其他', 'other'],
      ['其它', 'other'],
      ['other', 'other'],
    ])('%s → %s', (written, type) => {
      const result = parseRow(enterprise({ customerType: written }), ctx);
      expect(result.errors).toEqual([]);
      expect(result.registration?.customerType).toBe(type);
    });

    it('rejects an unknown type with customerType.invalid', () => {
      expect(parseRow(enterprise({ customerType: 'VIP' }), ctx).errors).toMatchObject([
        { code: 'customerType.invalid', field: 'customerType' },
      ]);
    });

    it.each([
      ['上海华信科技有限公司', 'enterprise'],
      ['东莞普泰咨询', 'enterprise'],
      ['华为公司', 'enterprise'],
      ['红星机械厂', 'enterprise'],
      ['Acme Trading Co., Ltd.', 'enterprise'],
      ['朱海燕', 'individual'],
      ['朱勇', 'individual'],
      ['阿卜杜·热合曼', 'individual'],
    ])('[R5] infers %s → %s when the type is absent, with no error', (name, type) => {
      const result = parseRow(enterprise({ customerName: name, customerType: undefined }), ctx);
      expect(result.errors).toEqual([]);
      expect(result.registration?.customerType).toBe(type);
    });
  });

  describe('required fields', () => {
    it('[R2] the customer name is required', () => {
      expect(parseRow(enterprise({ customerName: '  ' }), ctx).errors).toMatchObject([
        { code: 'field.required', field: 'customerName' },
      ]);
      expect(errorFields(enterprise({ customerName: undefined }))).toEqual(['customerName']);
    });

    it('[R2] a registrant column that is present but blank is an error', () => {
      expect(
        parseRow(enterprise({ registrant: '' }), { ...ctx, defaultRegistrant: '王磊' }).errors,
      ).toMatchObject([{ code: 'field.required', field: 'registrant' }]);
    });

    it('[R2] without a registrant column the default registrant is used', () => {
      const result = parseRow(enterprise({ registrant: undefined }), {
        ...ctx,
        defaultRegistrant: ' 王 磊 ',
      });
      expect(result.errors).toEqual([]);
      expect(result.registration?.registrant).toBe('王磊');
    });

    it('[R2] without a registrant column and without a default the registrant is missing', () => {
      expect(errorFields(enterprise({ registrant: undefined }))).toEqual(['registrant']);
    });

    it('[R5] an individual needs a phone', () => {
      const result = parseRow(individual({ contactPhone: undefined }), ctx);
      expect(result.errors).toMatchObject([{ code: 'field.required', field: 'contactPhone' }]);
      expect(parseRow(individual({ contactPhone: '182****9050' }), ctx).errors).toEqual([]);
    });

    it('[R5] an individual with a bad phone gets the phone error only, not a second one', () => {
      expect(parseRow(individual({ contactPhone: '12345' }), ctx).errors).toMatchObject([
        { code: 'phone.invalid', field: 'contactPhone' },
      ]);
    });

    it('[R5] an enterprise needs a credit code or an address', () => {
      const bare = { creditCode: undefined, region: undefined };
      expect(parseRow(enterprise(bare), ctx).errors).toMatchObject([
        { code: 'customer.identification', field: 'creditCode' },
      ]);
      expect(parseRow(enterprise({ ...bare, address: '上海市徐汇区漕溪北路 88 号' }), ctx).errors).toEqual(
        [],
      );
      expect(parseRow(enterprise({ ...bare, creditCode: CREDIT_CODE }), ctx).errors).toEqual([]);
    });

    it('[R5] an enterprise with only a region is accepted with a customer.identification warning', () => {
      const result = parseRow(enterprise({ creditCode: undefined, region: '上海' }), ctx);
      expect(result.errors).toEqual([]);
      expect(result.registration).not.toBeNull();
      expect(result.warnings).toMatchObject([{ code: 'customer.identification', field: 'creditCode' }]);
    });

    it('[R5] an enterprise with a bad credit code gets the credit code error only', () => {
      const result = parseRow(enterprise({ creditCode: 'ABC', region: undefined }), ctx);
      expect(result.errors).toMatchObject([{ code: 'creditCode.format', field: 'creditCode' }]);
    });

    it('[R5] an "other" customer needs neither phone nor credit code', () => {
      const result = parseRow(
        { customerName: '某某街道办事处', customerType: '其他', source: '展会', registrant: '张伟' },
        ctx,
      );
      expect(result.errors).toEqual([]);
    });

    it('[R6] the lead source is required when the policy says so', () => {
      expect(parseRow(enterprise({ source: undefined }), ctx).errors).toMatchObject([
        { code: 'field.required', field: 'source' },
      ]);
      const lenient = { ...ctx, policy: resolvePolicy({ sourceRequired: false }) };
      expect(parseRow(enterprise({ source: undefined }), lenient).errors).toEqual([]);
    });
  });

  describe('placeholders (无, /, —, N/A…)', () => {
    it.each(['无', '/', '-', '—', '——', '暂无', '不详', 'N/A', '空', '未知'])(
      'a placeholder %j in an optional cell is an empty cell, not a bad value',
      (filler) => {
        const result = parseRow(
          enterprise({
            email: filler,
            creditCode: filler,
            address: '上海市徐汇区漕溪北路 88 号',
            expectedAmount: filler,
            expectedSignDate: filler,
            firstVisitAt: filler,
            contactPhone: filler,
            contactName: filler,
            channel: filler,
            householdOf: filler,
            grade: filler,
          }),
          ctx,
        );
        expect(result.errors).toEqual([]);
        const registration = result.registration ?? {};
        for (const field of [
          'email',
          'creditCode',
          'expectedAmount',
          'expectedSignDate',
          'firstVisitAt',
          'contactPhone',
          'contactName',
          'channel',
          'householdOf',
          'grade',
        ]) {
          expect(registration).not.toHaveProperty(field);
        }
      },
    );

    it('[R2] a placeholder in the customer name or the registrant is reported missing, saying why', () => {
      const result = parseRow(enterprise({ customerName: '无', registrant: '/' }), ctx);
      expect(result.registration).toBeNull();
      expect(result.errors).toMatchObject([
        {
          code: 'field.required',
          field: 'registrant',
          message: '报备人不能为空：表中有报备人列时，空白不由提交人代填，请填写报备人（「/」表示未填写）',
        },
        {
          code: 'field.required',
          field: 'customerName',
          messageEn: 'Customer is required ("无" means not filled in)',
        },
      ]);
    });

    it('[R5][R6] an individual with 无 as phone and source lacks both, not a bad phone', () => {
      const result = parseRow(individual({ contactPhone: '无', source: '暂无' }), ctx);
      expect(result.errors.map((e) => [e.code, e.field])).toEqual([
        ['field.required', 'contactPhone'],
        ['field.required', 'source'],
      ]);
    });

    it('[R5] an enterprise whose address and credit code are 不详 is told they were read as not filled in', () => {
      const result = parseRow(enterprise({ creditCode: '/', address: '不详', region: undefined }), ctx);
      expect(result.errors).toMatchObject([
        {
          code: 'customer.identification',
          field: 'creditCode',
          message: '企业客户必须填写统一社会信用代码或地址（「/」「不详」表示未填写）',
          messageEn:
            'An enterprise customer needs a credit code or an address ("/" "不详" mean not filled in)',
        },
      ]);
    });

    it('keeps a placeholder in the free-text need and notes as typed', () => {
      const result = parseRow(enterprise({ need: '无', notes: '/' }), ctx);
      expect(result.registration).toMatchObject({ need: '无', notes: '/' });
    });

    it('reads full-width, traditional and spaced forms, and not words that hold more', () => {
      for (const text of ['無', '暫無', '／', '－', 'n / a', 'NA', '--', '//'])
        expect(isPlaceholder(text)).toBe(true);
      for (const text of ['无锡', '0', '×', '无限公司', '-5', 'A', 'n/a/b'])
        expect(isPlaceholder(text)).toBe(false);
    });

    it('reads the fillers sheets write for an unknown date or contact (未定, 不清楚, 不适用…) and 无 in brackets or with a full stop', () => {
      for (const text of [
        '未定',
        '不清楚',
        '不适用',
        '暂缺',
        '未填',
        '未提供',
        '待确认',
        '无。',
        '暂无。',
        '（无）',
        '(空)',
        '【无】',
        '無。',
      ])
        expect([text, isPlaceholder(text)]).toEqual([text, true]);
      // A word that holds more, or brackets around a value, is still a value.
      for (const text of ['未定型', '（个人）', '(无锡)', '无锡。', '不清楚的需求'])
        expect([text, isPlaceholder(text)]).toEqual([text, false]);
      const result = parseRow(
        enterprise({ expectedSignDate: '未定', contactPhone: '无。', email: '（无）' }),
        ctx,
      );
      expect(result.errors).toEqual([]);
      expect(result.registration).not.toHaveProperty('expectedSignDate');
      expect(result.registration).not.toHaveProperty('contactPhone');
    });

    it('reads a placeholder whatever form of its first character is typed (every BMP character folded)', () => {
      // Each word and each mark (PLACEHOLDER_MARKS' dashes and slashes), typed in every form of its first character.
      const words = [...PLACEHOLDER_WORDS, ...'-‐‑‒–—―─/\\'];
      const fold = (c: string): string => toSimplified(toHalfWidth(c)).replace(/\s+/g, '').toLowerCase();
      const missed: string[] = [];
      let typed = 0;
      for (let code = 0x20; code <= 0xffff; code++) {
        if (code >= 0xd800 && code <= 0xdfff) continue;
        const c = String.fromCharCode(code);
        const folded = fold(c);
        for (const word of words) {
          if (folded !== word[0]) continue;
          typed++;
          if (!isPlaceholder(c + word.slice(1))) missed.push(`${c} (U+${code.toString(16)}) in ${word}`);
        }
      }
      expect(missed).toEqual([]);
      // 无無, 暂暫, 没沒, N n Ｎ ｎ for four words, the dashes…: the loop did meet the forms it guards.
      expect(typed).toBeGreaterThan(30);
    });
  });

  describe('invisible characters (U+200B, U+200C, U+200D, U+2060, U+FEFF)', () => {
    const INVISIBLES = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF'];

    it.each(INVISIBLES.map((c) => [c.codePointAt(0)!.toString(16), c]))(
      '[R2] 无 or / with U+%s beside it is a placeholder, never a customer called 无',
      (_code, c) => {
        const result = parseRow(
          enterprise({ customerName: `无${c}`, contactPhone: `${c}/`, creditCode: `${c}无${c}` }),
          ctx,
        );
        expect(result.errors).toMatchObject([{ code: 'field.required', field: 'customerName' }]);
        expect(isPlaceholder(`${c}暂无`)).toBe(true);
      },
    );

    it('[R2][R6] a cell holding only invisible characters is blank', () => {
      const result = parseRow(enterprise({ source: '\u200B\u2060', registrant: '\uFEFF' }), ctx);
      expect(result.errors.map((e) => [e.code, e.field])).toEqual([
        ['field.required', 'registrant'],
        ['field.required', 'source'],
      ]);
    });

    it('reads every field without them: names as typed, phones, amounts, dates, emails and types parse', () => {
      const z = '\u200B';
      const result = parseRow(
        enterprise({
          customerName: `上海华信${z}科技有限公司`,
          registrant: `张伟${z}`,
          contactName: `王\u200D磊`,
          contactPhone: `138${z}1234${z}5678`,
          expectedAmount: `50万${z}`,
          registeredAt: `2026-11-20${z}`,
          email: `a@b.com\u2060`,
          customerType: `企业\uFEFF`,
          region: `${z}上海`,
        }),
        ctx,
      );
      expect(result.errors).toEqual([]);
      expect(result.registration).toMatchObject({
        customerName: '上海华信科技有限公司',
        registrant: '张伟',
        contactName: '王磊',
        contactPhone: '13812345678',
        expectedAmount: 500_000,
        email: 'a@b.com',
        customerType: 'enterprise',
        region: '上海',
      });
      expect(result.registration?.registeredAt).toBe(parseRow(enterprise(), ctx).registration?.registeredAt);
    });
  });

  describe('dates', () => {
    it('rejects a registration time after the end of the reference day with date.future', () => {
      expect(parseRow(enterprise({ registeredAt: '2026-11-23 23:59:59' }), ctx).errors).toEqual([]);
      expect(parseRow(enterprise({ registeredAt: '2026-11-24' }), ctx).errors).toMatchObject([
        { code: 'date.future', field: 'registeredAt' },
      ]);
    });

    it('allows a first visit and a signing date in the future', () => {
      expect(
        parseRow(enterprise({ firstVisitAt: '2026-12-01 10:00', expectedSignDate: '2027-03-01' }), ctx)
          .errors,
      ).toEqual([]);
    });

    it('uses the reference year for dates written without one', () => {
      const result = parseRow(enterprise({ registeredAt: '3月5日', expectedSignDate: '12月31日' }), ctx);
      expect(result.registration?.registeredAt).toBe('2026-03-04T16:00:00.000Z');
      expect(result.registration?.expectedSignDate).toBe('2026-12-31');
    });

    it('reads date cells (exceljs Date) as the wall-clock time in the sheet', () => {
      const result = parseRow(enterprise({ registeredAt: new Date(Date.UTC(2026, 6, 29)) }), ctx);
      expect(result.registration?.registeredAt).toBe('2026-07-28T16:00:00.000Z');
    });
  });

  it('every registration it returns is one registrationSchema accepts unchanged, fields in schema order (property)', () => {
    // Plausible and hostile cells for every field: most rows parse, so the output is what is checked.
    const cell = fc.oneof(
      fc.constantFrom(
        '上海华信科技有限公司',
        ' 華信（深圳） 有限公司 ',
        'ACME Co., Ltd.',
        '王  磊',
        '企业',
        '个人',
        '其他',
        CREDIT_CODE,
        '110108000000016',
        '138 1234 5678',
        '+86 139-0000-1111',
        '021-12345678转123',
        '138****5678',
        'Li.Na@Example.com ',
        '50万',
        '¥500,000',
        '0',
        '-0',
        '1.2亿',
        '2026年3月5日',
        '3月5日',
        '2026-11-20 09:30',
        '展会',
        '上海',
        'x'.repeat(101),
      ),
      fc.string({ maxLength: 12 }),
      fc.integer({ min: -1, max: 20_000_000_000 }),
      fc.double({ noNaN: true }),
      fc.constant(null),
      fc.date({ noInvalidDate: true }),
    );
    // A valid row with some fields replaced or added, so that many rows parse.
    const rawRow = fc
      .tuple(
        fc.constantFrom(enterprise(), individual(), enterprise({ customerType: null })),
        fc.dictionary(fc.constantFrom(...FIELDS), cell, { maxKeys: 8 }),
      )
      .map(([base, changes]): RawRow => ({ ...base, ...changes }));
    let registrations = 0;
    fc.assert(
      fc.property(rawRow, fc.boolean(), (raw, defaultRegistrant) => {
        const result = parseRow(raw, defaultRegistrant ? { ...ctx, defaultRegistrant: '王磊' } : ctx);
        if (result.registration === null) return;
        registrations++;
        const checked = registrationSchema.parse(result.registration);
        expect(result.registration).toEqual(checked);
        expect(Object.keys(result.registration)).toEqual(Object.keys(checked));
      }),
      { seed: SEED, numRuns: 3000 },
    );
    // The property says something only if many rows parse.
    expect(registrations).toBeGreaterThan(100);
  });

  it('never throws and always reports something for an arbitrary row', () => {
    const cell = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.date({ noInvalidDate: false }),
    );
    const rawRow = fc.record(
      {
        customerName: cell,
        customerType: cell,
        creditCode: cell,
        contactPhone: cell,
        email: cell,
        expectedAmount: cell,
        expectedSignDate: cell,
        registeredAt: cell,
        registrant: cell,
        source: cell,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(rawRow, (raw) => {
        const result = parseRow(raw, ctx);
        // Exactly one of: a registration, or at least one error naming a field.
        expect(result.registration === null).toBe(result.errors.length > 0);
        for (const p of result.errors) expect(typeof p.field).toBe('string');
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('cellText', () => {
  it.each([
    [null, null],
    [undefined, null],
    ['  ', null],
    [' 华信 ', '华信'],
    [13812345678, '13812345678'],
    // An 18-digit credit code typed into a number cell has already lost its last digits in Excel.
    [Number('913205053816595452'), '913205053816595500'],
    [1.5, '1.5'],
    [1e21, '1000000000000000000000'],
    [true, 'TRUE'],
    [new Date(Date.UTC(2026, 2, 5)), '2026-03-05'],
    [new Date(Date.UTC(2026, 2, 5, 14, 30)), '2026-03-05 14:30'],
    [new Date(Date.UTC(2026, 2, 5, 14, 30, 15)), '2026-03-05 14:30:15'],
    [new Date(Number.NaN), null],
    // Invisible characters pasted from web pages and chats are nothing.
    ['\u200B', null],
    ['\uFEFF王磊\u2060', '王磊'],
    ['华\u200C信\u200D', '华信'],
  ])('%j → %j', (value, text) => {
    expect(cellText(value)).toBe(text);
  });
});

describe('placeholders seen in legacy sheets (N.A., 未填写, #N/A…)', () => {
  const MORE = [
    'N.A.',
    'n.a.',
    'N.A',
    '未填写',
    '暂未填写',
    '暂未提供',
    '空白',
    'nil',
    '-/-',
    '—/—',
    '（未填写）',
  ];

  it.each(MORE)('%j is read as blank in every optional field, never as a bad value', (placeholder) => {
    expect(isPlaceholder(placeholder)).toBe(true);
    const result = parseRow(
      enterprise({
        contactName: placeholder,
        contactTitle: placeholder,
        contactPhone: placeholder,
        email: placeholder,
        address: placeholder,
        industry: placeholder,
      }),
      ctx,
    );
    expect(result.errors).toEqual([]);
    for (const field of ['contactName', 'contactTitle', 'contactPhone', 'email', 'address', 'industry'])
      expect(result.registration).not.toHaveProperty(field);
  });

  it.each(MORE)('[R2] %j is never a customer: two rows holding it are no one customer', (placeholder) => {
    const result = parseRow(enterprise({ customerName: placeholder, creditCode: placeholder }), ctx);
    expect(result.errors.map((e) => [e.code, e.field])).toEqual([['field.required', 'customerName']]);
    // As an organisation's contact it is no person key either (core/matching identityKeys).
    const registration = parseRow(enterprise({ contactName: placeholder }), ctx).registration!;
    expect(identityKeys(registration).person).toBeNull();
  });

  it('an Excel error value typed out (#N/A in a CSV export) is a broken formula in every field, as the add-in and the sync read its cell', () => {
    for (const error of ['#N/A', '#n/a', '#REF!', '#VALUE!', '#DIV/0!', '#NAME?', '#NULL!', '#NUM!']) {
      const result = parseRow(enterprise({ customerName: error, email: error }), ctx);
      expect(result.registration, error).toBeNull();
      expect(
        result.errors.map((e) => [e.code, e.field]),
        error,
      ).toEqual([
        ['cell.error_value', 'customerName'],
        ['cell.error_value', 'email'],
      ]);
    }
    // 需求 and 备注 keep what was typed, as for placeholders: nothing matches or checks them.
    expect(parseRow(enterprise({ notes: '#N/A' }), ctx).registration?.notes).toBe('#N/A');
  });

  it('words an Excel error value by the field holding it, as the add-in words it by the cell', () => {
    const [error] = parseRow(enterprise({ customerName: '#REF!' }), ctx).errors;
    expect(error).toEqual({
      code: 'cell.error_value',
      message: '客户名称是 Excel 错误值 #REF!（公式出错）：请改正公式或填入内容',
      messageEn: 'Customer holds the Excel error #REF! (a broken formula): fix the formula or type the value',
      field: 'customerName',
    });
  });

  it('keeps the list of placeholders in one place, the words people actually type', () => {
    for (const word of ['未填写', '暂未提供', '空白', 'n.a', 'nil'])
      expect(PLACEHOLDER_WORDS.has(word), word).toBe(true);
  });
});
