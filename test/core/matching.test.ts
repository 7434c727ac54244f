import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareIdentities,
  compareMatches,
  hashIdentityKeys,
  identityKeys,
  indexKeys,
  lookupKeys,
  MatchIndex,
  type Match,
  type MatchPolicy,
} from '../../core/matching.js';
import type { IdentityKeys, Registration } from '../../core/schema.js';

const POLICY: MatchPolicy = { nameSimilarityThreshold: 0.85, householdIsOneCustomer: false };
const HOUSEHOLDS: MatchPolicy = { ...POLICY, householdIsOneCustomer: true };

function registration(fields: Partial<Registration>): Registration {
  return { customerName: '某公司', customerType: 'enterprise', registrant: '周杰', ...fields };
}
function company(customerName: string, fields: Partial<Registration> = {}): IdentityKeys {
  return identityKeys(registration({ customerName, ...fields }));
}
function person(customerName: string, fields: Partial<Registration> = {}): IdentityKeys {
  return identityKeys(registration({ customerName, customerType: 'individual', ...fields }));
}
function compare(a: IdentityKeys, b: IdentityKeys, policy = POLICY): Match | null {
  return compareIdentities(a, b, policy);
}

const CODE_A = '91310115037061499U';
const CODE_B = '91420106776901076X';

describe('identityKeys', () => {
  it('normalises the name to region|core and keeps the trade block, core block and region', () => {
    const keys = company('华信科技（深圳）有限公司', {
      contactName: '欧阳娜娜',
      contactPhone: '13812345678',
    });
    expect(keys.name).toBe('深圳|华信科技');
    expect(keys.nameBlocks).toEqual(['t:深圳|华信', 'c:华信科技', 'r:深圳']);
    expect(keys.nameGrams).toEqual(['华信', '信科', '科技']);
    expect(keys.phone).toBe('13812345678');
    expect(keys.phoneIsMobile).toBe(true);
    expect(keys.maskedPhone).toBe('138****5678');
    expect(keys.person).toBe('|欧阳娜娜');
    expect(keys.surname).toBe('欧阳');
  });

  it('[R8] a masked phone gives only the masked key', () => {
    const keys = person('李杰', { contactPhone: '136****1313' });
    expect(keys).toMatchObject({
      phone: null,
      maskedPhone: '136****1313',
      phoneMasked: true,
      phoneIsMobile: false,
    });
  });

  it('a landline has no masked key', () => {
    const keys = company('上海华信科技有限公司', { contactPhone: '021-12345678' });
    expect(keys).toMatchObject({ phone: '02112345678', phoneIsMobile: false, maskedPhone: null });
  });

  it('an individual has no name blocks and is the person of its own keys', () => {
    const keys = person('朱勇', { contactName: '别人', contactPhone: '18288419050' });
    expect(keys.nameBlocks).toEqual([]);
    expect(keys.nameGrams).toEqual([]);
    expect(keys.person).toBe('|朱勇');
    expect(keys.surname).toBe('朱');
  });

  it('[R19] the household is kept whatever the policy; only a policy joining households compares it', () => {
    const wife = person('李娟', { householdOf: '王伟' });
    const head = person('王伟', {});
    expect(wife.household).toBe('|王伟');
    expect(person('李娟', {}).household).toBeNull();
    expect(compare(wife, head, HOUSEHOLDS)).toEqual({ matchedOn: 'household', strength: 'exact' });
    expect(compare(wife, head, POLICY)).toBeNull();
  });

  it('lower-cases the email', () => {
    expect(person('张磊', { email: 'Zhang.Lei@Example.COM' }).email).toBe('zhang.lei@example.com');
  });
});

describe('compareIdentities', () => {
  it('same credit code → exact, whatever the names', () => {
    expect(
      compare(
        company('合肥德云网络科技', { creditCode: CODE_A }),
        company('德云网络（合肥）', { creditCode: CODE_A }),
      ),
    ).toEqual({
      matchedOn: 'creditCode',
      strength: 'exact',
    });
  });

  it('same normalised name → exact (region prefix, bracketed region, 市, legal form, traditional characters)', () => {
    const base = company('华信科技（上海）有限公司');
    for (const variant of [
      '上海市华信科技有限公司',
      '上海华信科技',
      '華信科技（上海）有限公司',
      ' 上海 华信科技 股份有限公司 ',
    ]) {
      expect(compare(base, company(variant)), variant).toEqual({ matchedOn: 'name', strength: 'exact' });
    }
  });

  it('a name decorated with a mark or quotes is the same customer as the plain name → exact (撞单)', () => {
    const plain = company('上海华信科技有限公司', { contactName: '★王磊' });
    for (const decorated of ['★上海华信科技有限公司', '“上海华信科技有限公司”', '※上海华信科技有限公司']) {
      const keys = company(decorated, { contactName: '王磊' });
      expect(compare(keys, plain), decorated).toEqual({ matchedOn: 'name', strength: 'exact' });
      expect(keys.nameBlocks).toEqual(plain.nameBlocks);
      expect(keys.person).toBe(plain.person);
    }
  });

  it('same name but two different credit codes → possible; one code missing → exact', () => {
    expect(
      compare(
        company('上海华信科技', { creditCode: CODE_A }),
        company('上海华信科技', { creditCode: CODE_B }),
      ),
    ).toEqual({
      matchedOn: 'name',
      strength: 'possible',
    });
    expect(compare(company('上海华信科技', { creditCode: CODE_A }), company('上海华信科技'))).toEqual({
      matchedOn: 'name',
      strength: 'exact',
    });
  });

  it('two different credit codes make every reason possible at most', () => {
    const a = company('上海华信科技', {
      creditCode: CODE_A,
      contactName: '张三',
      contactPhone: '136****1313',
    });
    const b = company('北京恒通贸易', {
      creditCode: CODE_B,
      contactName: '张三',
      contactPhone: '13600001313',
    });
    expect(compare(a, b)).toEqual({ matchedOn: 'maskedPhone', strength: 'possible' });
  });

  it('same mobile → exact for individuals, possible for enterprises and across types', () => {
    expect(
      compare(
        person('朱勇', { contactPhone: '18288419050' }),
        person('朱永', { contactPhone: '18288419050' }),
      ),
    ).toEqual({
      matchedOn: 'phone',
      strength: 'exact',
    });
    const switchboard = { contactPhone: '13812345678' };
    expect(compare(company('上海华信科技', switchboard), company('北京恒通贸易', switchboard))).toEqual({
      matchedOn: 'phone',
      strength: 'possible',
    });
    expect(
      compare(person('朱勇', switchboard), company('北京恒通贸易', { ...switchboard, contactName: '朱勇' })),
    ).toEqual({
      matchedOn: 'phone',
      strength: 'possible',
    });
  });

  it('same mobile and same contact person of two enterprises → exact', () => {
    const contact = { contactName: '许平', contactPhone: '13198840014' };
    expect(compare(company('上海华信科技', contact), company('北京恒通贸易', contact))).toEqual({
      matchedOn: 'phone',
      strength: 'exact',
    });
  });

  it('same landline → possible for enterprises (shared switchboards), exact for individuals (a home number)', () => {
    const landline = { contactPhone: '021-12345678' };
    expect(compare(company('上海华信科技', landline), company('上海恒通贸易', landline))).toEqual({
      matchedOn: 'phone',
      strength: 'possible',
    });
    expect(compare(person('王芳', landline), person('王芳', landline))).toEqual({
      matchedOn: 'phone',
      strength: 'exact',
    });
  });

  it('[R8] masked phone + same name → exact; + same surname → possible; + other surname → nothing', () => {
    const masked = person('李杰', { contactPhone: '136****1313' });
    expect(compare(masked, person('李杰', { contactPhone: '13600001313' }))).toEqual({
      matchedOn: 'maskedPhone',
      strength: 'exact',
    });
    expect(compare(masked, person('李杰', { contactPhone: '136****1313' }))).toEqual({
      matchedOn: 'maskedPhone',
      strength: 'exact',
    });
    expect(compare(masked, person('李洁', { contactPhone: '13600001313' }))).toEqual({
      matchedOn: 'maskedPhone',
      strength: 'possible',
    });
    expect(compare(masked, person('王杰', { contactPhone: '13600001313' }))).toBeNull();
  });

  it('[R8] masked phone + same contact person of two enterprises → exact; one enterprise, one individual → possible', () => {
    const masked = company('重庆海丰服饰集团有限公司', { contactName: '马刚', contactPhone: '182****6987' });
    expect(
      compare(masked, company('海丰服饰', { contactName: '马刚', contactPhone: '18200006987' })),
    ).toEqual({
      matchedOn: 'maskedPhone',
      strength: 'exact',
    });
    expect(compare(masked, person('马刚', { contactPhone: '18200006987' }))).toEqual({
      matchedOn: 'maskedPhone',
      strength: 'possible',
    });
  });

  it('[R8] the masked key alone never matches, nor do two full numbers that only share it', () => {
    expect(
      compare(
        person('李杰', { contactPhone: '136****1313' }),
        person('王芳', { contactPhone: '136****1313' }),
      ),
    ).toBeNull();
    expect(
      compare(
        person('李杰', { contactPhone: '13600001313' }),
        person('李杰', { contactPhone: '13699991313' }),
      ),
    ).toBeNull();
  });

  it('same email → exact for individuals, possible for enterprises', () => {
    expect(compare(person('张磊', { email: 'zl@qq.com' }), person('张三', { email: 'ZL@qq.com' }))).toEqual({
      matchedOn: 'email',
      strength: 'exact',
    });
    expect(
      compare(company('上海华信科技', { email: 'info@hx.cn' }), company('北京恒通', { email: 'info@hx.cn' })),
    ).toEqual({
      matchedOn: 'email',
      strength: 'possible',
    });
  });

  it('an individual name alone is no match: two people called 王伟 are not one customer', () => {
    expect(
      compare(
        person('王伟', { contactPhone: '13800000001' }),
        person('王伟', { contactPhone: '13900000002' }),
      ),
    ).toBeNull();
    expect(compare(person('王伟'), person('王伟'))).toBeNull();
  });

  it('[R19] a row naming another customer as its household matches that customer and the other members', () => {
    const head = person('王伟', { contactPhone: '13800000001' });
    const wife = person('李娟', { contactPhone: '13900000002', householdOf: '王伟' });
    const son = person('王小明', { contactPhone: '13700000003', householdOf: '王伟' });
    expect(compare(wife, head, HOUSEHOLDS)).toEqual({ matchedOn: 'household', strength: 'exact' });
    expect(compare(head, wife, HOUSEHOLDS)).toEqual({ matchedOn: 'household', strength: 'exact' });
    expect(compare(wife, son, HOUSEHOLDS)).toEqual({ matchedOn: 'household', strength: 'exact' });
    expect(compare(wife, head, POLICY)).toBeNull();
    expect(compare(wife, person('王强', {}), HOUSEHOLDS)).toBeNull();
  });

  it('similar names in one block above the threshold → possible with the similarity', () => {
    const a = company('上海鑫普智能信息技术有限公司');
    const b = company('上海鑫普智能信息技术服务有限公司');
    const match = compare(a, b);
    expect(match).toEqual({ matchedOn: 'name', strength: 'possible', similarity: 14 / 16 });
    expect(compare(a, b, { ...POLICY, nameSimilarityThreshold: 0.9 })).toBeNull();
  });

  it('the same name with its region unknown on one side → possible, similarity 1', () => {
    expect(compare(company('华信科技有限公司'), company('上海华信科技有限公司'))).toEqual({
      matchedOn: 'name',
      strength: 'possible',
      similarity: 1,
    });
  });

  it('names in different regions are different companies: not even possible', () => {
    expect(compare(company('北京华信科技有限公司'), company('上海华信科技有限公司'))).toBeNull();
    expect(
      compare(company('北京鑫普智能信息技术有限公司'), company('上海鑫普智能信息技术服务有限公司')),
    ).toBeNull();
  });

  it('a province and a city in it are different regions too (广东, 深圳)', () => {
    expect(compare(company('广东华信科技有限公司'), company('深圳华信科技有限公司'))).toBeNull();
  });

  it('names are compared only within a block (the trade name), so a different first two characters is no match', () => {
    // Dice 10/11 ≈ 0.91, but 新华 and 华信 are different trade names.
    expect(compare(company('上海新华信科技发展有限公司'), company('上海华信科技发展有限公司'))).toBeNull();
  });

  it('individuals are never matched by name similarity', () => {
    expect(
      compare(
        person('欧阳娜娜', { contactPhone: '13800000001' }),
        person('欧阳娜', { contactPhone: '13900000002' }),
      ),
    ).toBeNull();
  });

  it('a branch is a customer of its own', () => {
    expect(compare(company('上海华信科技有限公司'), company('上海华信科技有限公司北京分公司'))).toBeNull();
  });

  it('exact beats possible: the strongest reason is reported', () => {
    const a = company('上海华信科技', { contactPhone: '13812345678', email: 'a@hx.cn' });
    const b = company('上海华信科技有限公司', { contactPhone: '13812345678', email: 'a@hx.cn' });
    expect(compare(a, b)).toEqual({ matchedOn: 'name', strength: 'exact' });
  });
});

describe('hashIdentityKeys', () => {
  it('hashes every identifying string with a prefix per kind, and keeps the flags', () => {
    const keys = company('上海华信科技', {
      creditCode: CODE_A,
      contactName: '许平',
      contactPhone: '13198840014',
      email: 'a@hx.cn',
    });
    const hashed = hashIdentityKeys(keys, (v) => `H(${v})`);
    expect(hashed.creditCode).toBe(`H(cc:${CODE_A})`);
    expect(hashed.name).toBe('H(nm:上海|华信科技)');
    expect(hashed.person).toBe('H(nm:|许平)');
    expect(hashed.phone).toBe('H(ph:13198840014)');
    expect(hashed.maskedPhone).toBe('H(mk:131****0014)');
    expect(hashed.email).toBe('H(em:a@hx.cn)');
    expect(hashed.surname).toBe('H(sn:许)');
    expect(hashed.nameBlocks).toEqual(keys.nameBlocks.map((b) => `H(nb:${b})`));
    expect(hashed.nameGrams).toEqual(keys.nameGrams.map((g) => `H(ng:${g})`));
    expect([hashed.customerType, hashed.phoneIsMobile, hashed.phoneMasked]).toEqual([
      'enterprise',
      true,
      false,
    ]);
  });

  it("hashes an individual's name once: its person (and a household naming it) take the same hash", () => {
    const keys = person('王伟', { contactPhone: '13800000001' });
    const hmac = (v: string) => createHmac('sha256', 'k').update(v).digest('base64url').slice(0, 22);
    const asked: string[] = [];
    const hashed = hashIdentityKeys({ ...keys, household: keys.name }, (v) => (asked.push(v), hmac(v)));
    expect(keys.person).toBe(keys.name);
    expect(hashed.name).toBe(hmac(`nm:${keys.name}`));
    expect(hashed.person).toBe(hashed.name);
    expect(hashed.household).toBe(hashed.name);
    expect(asked.filter((v) => v === `nm:${keys.name}`)).toHaveLength(1);
    expect(new Set(asked).size).toBe(asked.length);
  });

  it('equal text of different kinds hashes differently', () => {
    const keys = person('x', { contactPhone: '13800000001', email: 'x@y.cn' });
    const sameText: IdentityKeys = {
      ...keys,
      phone: 'v',
      email: 'v',
      creditCode: 'v',
      name: 'v',
      surname: 'v',
    };
    const hashed = hashIdentityKeys(sameText, (v) => v);
    expect(new Set([hashed.phone, hashed.email, hashed.creditCode, hashed.name, hashed.surname]).size).toBe(
      5,
    );
  });
});

describe('indexKeys and lookupKeys', () => {
  it('file a record under every identifying value', () => {
    const keys = company('上海华信科技', {
      creditCode: CODE_A,
      contactPhone: '13198840014',
      email: 'a@hx.cn',
    });
    expect(indexKeys(keys)).toEqual([
      `cc:${CODE_A}`,
      'nm:上海|华信科技',
      'ph:13198840014',
      'mf:131****0014',
      'em:a@hx.cn',
      'nb:t:上海|华信',
      'nc:c:华信科技',
    ]);
  });

  it('an individual is filed under its name but does not look itself up by name', () => {
    const keys = person('王伟', { contactPhone: '13800000001' });
    expect(indexKeys(keys)).toContain('nm:|王伟');
    expect(lookupKeys(keys)).not.toContain('nm:|王伟');
    expect(lookupKeys(keys)).toContain('hh:|王伟');
  });

  it('[R19] given a policy that does not join households, no household keys are looked up', () => {
    const keys = person('李娟', { householdOf: '王伟' });
    expect(lookupKeys(keys, HOUSEHOLDS)).toEqual(
      expect.arrayContaining(['hh:|李娟', 'nm:|王伟', 'hh:|王伟']),
    );
    expect(lookupKeys(keys, POLICY).filter((key) => key.startsWith('hh:') || key.startsWith('nm:'))).toEqual(
      [],
    );
  });

  it('[R8] a full mobile is filed for masked rows to find, and only masked rows look it up', () => {
    const full = person('李杰', { contactPhone: '13600001313' });
    const masked = person('李杰', { contactPhone: '136****1313' });
    expect(indexKeys(full)).toContain('mf:136****1313');
    expect(indexKeys(masked)).toContain('mk:136****1313');
    expect(lookupKeys(full)).toContain('mk:136****1313');
    expect(lookupKeys(full)).not.toContain('mf:136****1313');
    expect(lookupKeys(masked)).toEqual(expect.arrayContaining(['mk:136****1313', 'mf:136****1313']));
  });

  it('only a name without a region looks up the core blocks of names with one', () => {
    expect(lookupKeys(company('上海华信科技'))).not.toContain('nc:c:华信科技');
    expect(lookupKeys(company('华信科技有限公司'))).toEqual(
      expect.arrayContaining(['nb:c:华信科技', 'nc:c:华信科技']),
    );
  });

  it('[R19] a household row looks up the named customer and the household', () => {
    const keys = person('李娟', { householdOf: '王伟' });
    expect(indexKeys(keys)).toContain('hh:|王伟');
    expect(lookupKeys(keys)).toEqual(expect.arrayContaining(['nm:|王伟', 'hh:|王伟']));
  });
});

describe('MatchIndex', () => {
  it('finds records by any key, best first, and forgets removed ones', () => {
    const index = new MatchIndex(POLICY);
    index.add('phone', company('北京恒通贸易', { contactPhone: '13812345678' }));
    index.add('name', company('上海华信科技有限公司'));
    index.add('other', company('广州云帆电气'));
    expect(index.size).toBe(3);
    const row = company('华信科技（上海）', { contactPhone: '13812345678' });
    expect(index.lookup(row)).toEqual([
      { id: 'name', match: { matchedOn: 'name', strength: 'exact' } },
      { id: 'phone', match: { matchedOn: 'phone', strength: 'possible' } },
    ]);
    expect(index.remove('name')).toBe(true);
    expect(index.remove('name')).toBe(false);
    expect(index.size).toBe(2);
    expect(index.lookup(row).map((hit) => hit.id)).toEqual(['phone']);
  });

  it('adding an id again replaces its keys', () => {
    const index = new MatchIndex(POLICY);
    index.add('a', company('上海华信科技'));
    index.add('a', company('广州云帆电气'));
    expect(index.size).toBe(1);
    expect(index.lookup(company('上海华信科技'))).toEqual([]);
    expect(index.lookup(company('广州云帆电气')).map((hit) => hit.id)).toEqual(['a']);
  });
});

// ---- properties ----

const SEED = 20_260_301;
const RUNS = { seed: SEED, numRuns: 400 };

const REGIONS = ['', '上海', '北京', '深圳', '广东'];
const TRADES = ['华信', '华新', '鑫普', '恒通', '新华信'];
const INDUSTRIES = ['科技', '信息技术', '科技发展', '电子', '智能信息技术服务'];
const FORMS = ['有限公司', '', '股份有限公司'];
const PEOPLE = ['王伟', '王芳', '李杰', '李洁', '欧阳娜娜', '朱勇'];
const MOBILES = ['13812345678', '13800005678', '13912340000', '18288419050'];
const PHONES = [
  ...MOBILES,
  ...MOBILES.map((m) => `${m.slice(0, 3)}****${m.slice(7)}`),
  '021-12345678',
  '0755-87654321',
];
const CODES = [CODE_A, CODE_B, '91320505219834683Y'];
const EMAILS = ['a@hx.cn', 'b@hx.cn', 'wang@qq.com'];

function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq: 2 });
}

const organisationName = fc
  .record({
    region: fc.constantFrom(...REGIONS),
    trade: fc.constantFrom(...TRADES),
    industry: fc.constantFrom(...INDUSTRIES),
    form: fc.constantFrom(...FORMS),
    bracketed: fc.boolean(),
  })
  .map(({ region, trade, industry, form, bracketed }) =>
    bracketed && region !== ''
      ? `${trade}${industry}（${region}）${form}`
      : `${region}${trade}${industry}${form}`,
  );

/** Registrations drawn from small pools, so that names, phones, codes and households often coincide. */
const registrationArb: fc.Arbitrary<Registration> = fc
  .record({
    customerType: fc.constantFrom('enterprise', 'individual', 'other'),
    organisationName,
    personName: fc.constantFrom(...PEOPLE),
    creditCode: optional(fc.constantFrom(...CODES)),
    contactName: optional(fc.constantFrom(...PEOPLE)),
    phone: fc.constantFrom(...PHONES),
    phoneGiven: fc.boolean(),
    email: optional(fc.constantFrom(...EMAILS)),
    householdOf: fc.option(fc.constantFrom(...PEOPLE), { nil: undefined, freq: 3 }),
  })
  .map((r): Registration => {
    const individual = r.customerType === 'individual';
    const reg: Registration = {
      customerType: r.customerType,
      customerName: individual ? r.personName : r.organisationName,
      registrant: '周杰',
    };
    // R5: an individual needs a phone.
    if (individual || r.phoneGiven) reg.contactPhone = r.phone;
    if (!individual && r.creditCode !== undefined) reg.creditCode = r.creditCode;
    if (r.contactName !== undefined) reg.contactName = r.contactName;
    if (r.email !== undefined) reg.email = r.email;
    if (individual && r.householdOf !== undefined) reg.householdOf = r.householdOf;
    return reg;
  });

const policyArb: fc.Arbitrary<MatchPolicy> = fc.record({
  nameSimilarityThreshold: fc.constantFrom(0.5, 0.7, 0.85, 1),
  householdIsOneCustomer: fc.boolean(),
});

const hmac = (value: string): string =>
  createHmac('sha256', 'matching-test-key').update(value).digest('base64url');

function bruteForce(
  records: readonly IdentityKeys[],
  row: IdentityKeys,
  policy: MatchPolicy,
): { id: string; match: Match }[] {
  return records
    .map((keys, i) => ({ i, match: compareIdentities(row, keys, policy) }))
    .filter((hit): hit is { i: number; match: Match } => hit.match !== null)
    .sort((a, b) => compareMatches(a.match, b.match) || a.i - b.i)
    .map(({ i, match }) => ({ id: `r${i}`, match }));
}

describe('matching properties (fast-check, seeded)', () => {
  it('a row always matches itself exactly', () => {
    fc.assert(
      fc.property(registrationArb, policyArb, (reg, policy) => {
        const keys = identityKeys(reg);
        expect(compareIdentities(keys, keys, policy)?.strength).toBe('exact');
      }),
      RUNS,
    );
  });

  it('comparison is symmetric', () => {
    fc.assert(
      fc.property(registrationArb, registrationArb, policyArb, (a, b, policy) => {
        const ka = identityKeys(a);
        const kb = identityKeys(b);
        expect(compareIdentities(ka, kb, policy)).toEqual(compareIdentities(kb, ka, policy));
      }),
      RUNS,
    );
  });

  it('rows that share no credit code, name, contact person, phone, email or household never match exactly', () => {
    fc.assert(
      fc.property(registrationArb, registrationArb, policyArb, (a, b, policy) => {
        const ka = identityKeys(a);
        const kb = identityKeys(b);
        const same = (x: string | null, y: string | null): boolean => x !== null && x === y;
        // A masked number and a full one sharing its digits are different phones as written.
        const written = (k: IdentityKeys): string | null => k.phone ?? k.maskedPhone;
        fc.pre(!same(ka.creditCode, kb.creditCode));
        fc.pre(ka.name !== kb.name && !same(ka.person, kb.person));
        fc.pre(!same(written(ka), written(kb)));
        fc.pre(!same(ka.email, kb.email));
        fc.pre(
          !same(ka.household, kb.household) && !same(ka.household, kb.name) && !same(kb.household, ka.name),
        );
        expect(compareIdentities(ka, kb, policy)?.strength).not.toBe('exact');
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it('hashing with an injective hash (a prefix, or HMAC-SHA-256) gives the same matches as clear keys', () => {
    const prefixed = (v: string): string => 'h' + v;
    fc.assert(
      fc.property(registrationArb, registrationArb, policyArb, (a, b, policy) => {
        const ka = identityKeys(a);
        const kb = identityKeys(b);
        const clear = compareIdentities(ka, kb, policy);
        for (const hash of [prefixed, hmac]) {
          expect(compareIdentities(hashIdentityKeys(ka, hash), hashIdentityKeys(kb, hash), policy)).toEqual(
            clear,
          );
        }
      }),
      RUNS,
    );
  });

  it('MatchIndex lookups equal a brute-force all-pairs comparison (the index misses nothing)', () => {
    fc.assert(
      fc.property(
        fc.array(registrationArb, { minLength: 1, maxLength: 40 }),
        fc.array(registrationArb, { minLength: 1, maxLength: 10 }),
        policyArb,
        fc.boolean(),
        (stored, rows, policy, hashed) => {
          const prepare = (reg: Registration): IdentityKeys => {
            const keys = identityKeys(reg);
            return hashed ? hashIdentityKeys(keys, hmac) : keys;
          };
          const records = stored.map(prepare);
          const index = new MatchIndex(policy);
          records.forEach((keys, i) => index.add(`r${i}`, keys));
          for (const row of [...rows.map(prepare), ...records]) {
            expect(index.lookup(row)).toEqual(bruteForce(records, row, policy));
          }
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('MatchIndex stays equal to brute force after removals and re-adds', () => {
    fc.assert(
      fc.property(
        fc.array(registrationArb, { minLength: 2, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 15 }),
        policyArb,
        (stored, removals, policy) => {
          const records = stored.map((reg) => identityKeys(reg));
          const index = new MatchIndex(policy);
          records.forEach((keys, i) => index.add(`r${i}`, keys));
          const removed = [...new Set(removals.map((n) => n % records.length))];
          for (const i of removed) index.remove(`r${i}`);
          expect(index.size).toBe(records.length - removed.length);
          // Every other removed record comes back, after all the others.
          const readded = removed.filter((_, k) => k % 2 === 0);
          for (const i of readded) index.add(`r${i}`, records[i] as IdentityKeys);
          const order = [...records.keys()].filter((i) => !removed.includes(i)).concat(readded);
          for (const row of records) {
            const expected = order
              .map((i, rank) => ({
                i,
                rank,
                match: compareIdentities(row, records[i] as IdentityKeys, policy),
              }))
              .filter((hit): hit is { i: number; rank: number; match: Match } => hit.match !== null)
              .sort((a, b) => compareMatches(a.match, b.match) || a.rank - b.rank)
              .map(({ i, match }) => ({ id: `r${i}`, match }));
            expect(index.lookup(row)).toEqual(expected);
          }
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });
});
