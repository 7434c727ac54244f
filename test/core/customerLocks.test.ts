import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { batchLockKeys, customerLockKeys, sharedLockKeys } from '../../core/customerLocks.js';
import { compareIdentities, hashIdentityKeys, identityKeys, type MatchPolicy } from '../../core/matching.js';
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
const hmac = (value: string): string => createHmac('sha256', 'k').update(value).digest('base64url');

function intersects(a: readonly string[], b: readonly string[]): boolean {
  return a.some((key) => b.includes(key));
}

const CODE_A = '91310115037061499U';

/** Pairs core's matching calls an exact match, with the policy and the rule. */
const EXACT_PAIRS: [string, IdentityKeys, IdentityKeys, MatchPolicy][] = [
  [
    'creditCode',
    company('华信科技有限公司', { creditCode: CODE_A }),
    company('华信集团', { creditCode: CODE_A }),
    POLICY,
  ],
  ['name', company('上海华信科技有限公司'), company('上海华信科技股份有限公司'), POLICY],
  [
    'phone (two individuals)',
    person('王伟', { contactPhone: '13812345678' }),
    person('王芳', { contactPhone: '138-1234-5678' }),
    POLICY,
  ],
  [
    'phone + same contact (two organisations)',
    company('华信科技', { contactPhone: '02168001234', contactName: '李雷' }),
    company('远航贸易', { contactPhone: '021-68001234', contactName: '李雷' }),
    POLICY,
  ],
  [
    'email (two individuals)',
    person('王伟', { email: 'Wang@Example.com' }),
    person('王芳', { email: 'wang@example.com ' }),
    POLICY,
  ],
  [
    '[R8] masked phone + same name',
    person('李杰', { contactPhone: '136****1313' }),
    person('李杰', { contactPhone: '13612341313' }),
    POLICY,
  ],
  [
    '[R8] masked phone + same contact person',
    company('华信科技', { contactPhone: '136****1313', contactName: '韩梅梅' }),
    company('远航贸易', { contactPhone: '13612341313', contactName: '韩梅梅' }),
    POLICY,
  ],
  [
    '[R19] same household',
    person('王小明', { householdOf: '王大明' }),
    person('李芳', { householdOf: '王大明' }),
    HOUSEHOLDS,
  ],
  [
    '[R19] household names the customer',
    person('王小明', { householdOf: '王大明' }),
    person('王大明', {}),
    HOUSEHOLDS,
  ],
];

describe('customerLockKeys', () => {
  it.each(EXACT_PAIRS)('%s: an exact match shares a lock key (clear and hashed)', (_rule, a, b, policy) => {
    // The pair must really be exact, or this test would prove nothing.
    expect(compareIdentities(a, b, policy)?.strength).toBe('exact');
    expect(compareIdentities(b, a, policy)?.strength).toBe('exact');
    expect(intersects(customerLockKeys(a), customerLockKeys(b))).toBe(true);
    const [ha, hb] = [hashIdentityKeys(a, hmac), hashIdentityKeys(b, hmac)];
    expect(compareIdentities(ha, hb, policy)?.strength).toBe('exact');
    expect(intersects(customerLockKeys(ha), customerLockKeys(hb))).toBe(true);
  });

  it.each(EXACT_PAIRS)(
    '%s: one side holds a shared key exclusive, so the two never run together',
    (_rule, a, b) => {
      const exclusiveOf = (x: IdentityKeys) =>
        customerLockKeys(x).filter((key) => !sharedLockKeys(x).includes(key));
      const common = customerLockKeys(a).filter((key) => customerLockKeys(b).includes(key));
      expect(common.some((key) => exclusiveOf(a).includes(key) || exclusiveOf(b).includes(key))).toBe(true);
      const [ha, hb] = [hashIdentityKeys(a, hmac), hashIdentityKeys(b, hmac)];
      const hashedCommon = customerLockKeys(ha).filter((key) => customerLockKeys(hb).includes(key));
      expect(hashedCommon.some((key) => exclusiveOf(ha).includes(key) || exclusiveOf(hb).includes(key))).toBe(
        true,
      );
    },
  );

  it('two individuals of one name with other numbers share only keys they both hold shared', () => {
    const a = person('王伟', { contactPhone: '13812345678' });
    const b = person('王伟', { contactPhone: '13987654321' });
    expect(compareIdentities(a, b, HOUSEHOLDS)?.strength).not.toBe('exact');
    const common = customerLockKeys(a).filter((key) => customerLockKeys(b).includes(key));
    expect(common).toEqual(['nm:|王伟']);
    expect(sharedLockKeys(a)).toContain('nm:|王伟');
    expect(sharedLockKeys(b)).toContain('nm:|王伟');
    // A masked number holds its masked key exclusive; a full one shares it.
    expect(sharedLockKeys(person('李杰', { contactPhone: '136****1313' }))).toEqual(['nm:|李杰']);
    expect(sharedLockKeys(company('华信科技', { contactPhone: '13612341313' }))).toEqual(['mk:136****1313']);
  });

  it('unrelated customers have disjoint keys', () => {
    const rows = [
      company('华信科技有限公司', { creditCode: CODE_A, contactPhone: '13812345678', email: 'a@hx.cn' }),
      company('远航贸易有限公司', { contactPhone: '02168001234', contactName: '李雷' }),
      person('王伟', { contactPhone: '13900001111', email: 'w@qq.com' }),
      person('赵敏', { contactPhone: '137****2222', householdOf: '赵强' }),
    ];
    for (let i = 0; i < rows.length; i++) {
      for (let j = i + 1; j < rows.length; j++) {
        const [a, b] = [rows[i] as IdentityKeys, rows[j] as IdentityKeys];
        expect(compareIdentities(a, b, HOUSEHOLDS)).toBeNull();
        expect(intersects(customerLockKeys(a), customerLockKeys(b))).toBe(false);
      }
    }
  });

  it('keys are sorted and without duplicates; a batch unites its rows', () => {
    const a = person('王大明', { householdOf: '王大明', contactPhone: '13812345678' });
    const keys = customerLockKeys(a);
    expect(keys).toEqual([...new Set(keys)].sort());
    expect(keys).toEqual(['mk:138****5678', 'nm:|王大明', 'ph:13812345678']);
    const b = company('华信科技', { creditCode: CODE_A });
    expect(batchLockKeys([a, b, a])).toEqual([...new Set([...keys, ...customerLockKeys(b)])].sort());
  });
});
