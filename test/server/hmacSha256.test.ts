import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha256 } from '../../server/security/hmacSha256.js';
import { HASH_CACHE_ENTRIES, keyringFromMasterKey } from '../../server/security/keyring.js';

const SEED = 20261123;

function reference(key: Uint8Array, value: string, bytes: number): string {
  return createHmac('sha256', key).update(value, 'utf8').digest().subarray(0, bytes).toString('base64url');
}

describe('hmacSha256', () => {
  it('equals node:crypto HMAC-SHA-256 for every length around the block boundaries', () => {
    const key = randomBytes(32);
    const hash = hmacSha256(key, 32);
    for (let n = 0; n <= 200; n++) {
      const value = 'a'.repeat(n);
      expect(hash(value)).toBe(reference(key, value, 32));
    }
  });

  it('equals node:crypto for arbitrary text, lone surrogates included, keys of any length, any truncation (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 150 }),
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 80 }),
          // Any UTF-16 units, lone surrogates included.
          fc
            .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 80 })
            .map((units) => String.fromCharCode(...units)),
        ),
        fc.integer({ min: 1, max: 32 }),
        (key, value, bytes) => {
          expect(hmacSha256(key, bytes)(value)).toBe(reference(key, value, bytes));
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
    const key = randomBytes(32);
    for (const value of ['\ud800', 'x\udc00y', '😀上海华信', '\ud83d', '']) {
      expect(hmacSha256(key, 16)(value)).toBe(reference(key, value, 16));
    }
  });

  it('refuses a truncation outside 1–32 bytes', () => {
    expect(() => hmacSha256(randomBytes(32), 0)).toThrow(RangeError);
    expect(() => hmacSha256(randomBytes(32), 33)).toThrow(RangeError);
  });

  it('keyring.hash keeps the keys stored before it: HMAC-SHA-256 under the HKDF match key, 16 bytes', () => {
    const master = randomBytes(32);
    const macKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'baobei/match-hash/v1', 32));
    const keyring = keyringFromMasterKey(master);
    for (const value of ['nm:上海|华信科技', 'ph:13812345678', 'ng:|华信', 'sn:王']) {
      expect(keyring.hash(value)).toBe(reference(macKey, value, 16));
    }
  });

  it('keyring.hash gives the same digests through its cache of short values, before and after the cache is full', () => {
    const master = randomBytes(32);
    const macKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'baobei/match-hash/v1', 32));
    const keyring = keyringFromMasterKey(master);
    // More distinct short values than the cache holds: the first ones are cached, the last ones not.
    const values = Array.from({ length: HASH_CACHE_ENTRIES + 1_000 }, (_, i) => `ng:${i.toString(36)}`);
    const first = values.map((v) => keyring.hash(v));
    for (const i of [0, 1, 777, HASH_CACHE_ENTRIES - 1, HASH_CACHE_ENTRIES, values.length - 1]) {
      expect(first[i]).toBe(reference(macKey, values[i]!, 16));
      expect(keyring.hash(values[i]!)).toBe(first[i]);
    }
    // Another key caches its own digests.
    expect(keyringFromMasterKey(randomBytes(32)).hash(values[0]!)).not.toBe(first[0]);
    for (const value of ['ng:|华', 'sn:欧阳', 'nb:华信科技']) {
      expect(keyring.hash(value)).toBe(reference(macKey, value, 16));
      expect(keyring.hash(value)).toBe(reference(macKey, value, 16));
    }
  });
});
