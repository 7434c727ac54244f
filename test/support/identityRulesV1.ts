/**
 * Identity keys as version 1 of the identity rules computed them, for stores written before an
 * upgrade (server/services/identityRekey.ts). Only the name keys differ from today's.
 */
import { nameBigrams } from '../../core/companyName.js';
import { identityKeys } from '../../core/matching.js';
import type { IdentityKeys, Registration } from '../../core/schema.js';

export const STARRED = '★上海华信科技有限公司';

/**
 * The clear keys version 1 gave a registration of ★上海华信科技有限公司: the star hid the leading
 * region, so the whole 上海华信科技 was the core of a name without region (written out as that
 * version's companyKey and name blocks did).
 */
export function starredKeysOfVersion1(reg: Registration): IdentityKeys {
  if (reg.customerName !== STARRED) throw new Error(`only ${STARRED} is known`);
  const name = '|上海华信科技';
  return {
    ...identityKeys(reg),
    name,
    nameBlocks: ['t:|上海', 'c:上海华信科技'],
    nameGrams: nameBigrams(name),
  };
}
