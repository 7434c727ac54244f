import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flatSealText, keyringFromMasterKey } from '../../server/security/keyring.js';

const MASTER = Buffer.alloc(32, 7);
const KEYRING_MODULE = fileURLToPath(new URL('../../server/security/keyring.ts', import.meta.url));

describe('[R35] keyring seal text', () => {
  it('is `v1.` and the base64url of iv | ciphertext | tag, and opens back', () => {
    const keyring = keyringFromMasterKey(MASTER);
    const plain = '{"customerName":"上海某某有限公司","n":1}';
    const sealed = keyring.seal(plain);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    expect(raw.length).toBe(12 + Buffer.byteLength(plain) + 16);
    expect(keyring.open(sealed)).toBe(plain);
  });

  it('opens a seal written by the earlier code (same key)', () => {
    // Made by keyring.seal before the seal text was built flat (commit 53f3760), with MASTER.
    const written =
      'v1.jhiiyaZE-sUDsKp6BKpXdVb-6EWQERA-oezaeT6hnePvRd30FFCA__AD-cUiyYNWLjnr-v7TMnIKS0xELD38F-R77UGK7Kc';
    expect(keyringFromMasterKey(MASTER).open(written)).toBe('{"客户":"上海某某有限公司","n":1}');
  });

  it('is a flat string, not a V8 cons string the first JSON write would copy (issue 12)', () => {
    // A child with V8's natives syntax prints the string's representation. A cons string (prefix +
    // encoded text) is flattened into a second copy by the first journal or snapshot write, and
    // both copies of every committed seal then sat in the old generation.
    const out = execFileSync(
      process.execPath,
      [
        '--allow-natives-syntax',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { keyringFromMasterKey } = await import(${JSON.stringify(KEYRING_MODULE)});
         const debugPrint = new Function('s', '%DebugPrint(s)');
         debugPrint(keyringFromMasterKey(Buffer.alloc(32, 7)).seal('{"a":"报备"}'));`,
      ],
      { encoding: 'utf8' },
    );
    const type = /- type: (\w+)/.exec(out)?.[1];
    expect(type).toBeDefined();
    expect(type).not.toMatch(/CONS/);
  });

  it('writes the same text as the buffer-built version it replaced, for any bytes (property)', () => {
    // The text as flatSealText built it until 2026-12-08 (prefix and encoded text copied into a buffer).
    const earlier = (raw: Buffer): string => {
      const encoded = raw.toString('base64url');
      const text = Buffer.allocUnsafe(3 + encoded.length);
      text.write('v1.', 0, 'latin1');
      text.write(encoded, 3, 'latin1');
      return text.toString('latin1');
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2_000 }), (bytes) => {
        const raw = Buffer.from(bytes);
        expect(flatSealText(raw)).toBe(earlier(raw));
      }),
      { seed: 20261208, numRuns: 5_000 },
    );
  });
});
