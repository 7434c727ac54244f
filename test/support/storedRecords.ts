/**
 * Stored records and identity keys for tests and benches to put in a store: plain data, no vitest
 * (the benches and the child processes tests start import them too).
 */
import type { IdentityKeys, StoredRecord } from '../../core/schema.js';

/** Identity keys of a made-up enterprise: every hashed key named after `name`, so each is its own. */
export function identity(name: string, extra: Partial<IdentityKeys> = {}): IdentityKeys {
  return {
    customerType: 'enterprise',
    creditCode: null,
    name: `h-name-${name}`,
    nameBlocks: [`h-block-${name}`],
    nameGrams: [`h-gram-${name}`],
    phone: null,
    phoneIsMobile: false,
    maskedPhone: null,
    phoneMasked: false,
    email: null,
    household: null,
    person: null,
    surname: null,
    ...extra,
  };
}

/** A pending enterprise registration numbered `no`, as a store keeps it; `overrides` replace fields. */
export function record(
  no: string,
  overrides: Partial<StoredRecord> = {},
  customer = '上海华信科技有限公司',
): StoredRecord {
  const r: StoredRecord = {
    no,
    status: 'pending',
    registration: {
      customerName: customer,
      customerType: 'enterprise',
      registrant: '王磊',
      contactName: '李秀英',
      contactPhone: '13812345678',
      email: 'li@example.com',
      creditCode: '91310000MA1FL8L972',
      address: '上海市浦东新区世纪大道100号',
      source: '展会',
    },
    identity: identity(no),
    submittedBy: '王磊',
    team: '华东一部',
    receivedAt: '2026-11-20T02:00:00.000Z',
    claimedAt: '2026-11-20T02:00:00.000Z',
    claimHasTime: true,
    reviewDueBy: '2026-12-01',
    followUps: [],
    history: [{ at: '2026-11-20T02:00:00.000Z', by: '王磊', action: 'register', to: 'pending' }],
    version: 1,
    ...overrides,
  };
  r.registration = { ...r.registration, customerName: customer };
  return r;
}
