/**
 * A throw-away self-signed certificate made by the machine's openssl, for the tests that serve
 * HTTPS or check a reverse-proxy configuration. Valid one day; never leaves the temp dir.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export function writeSelfSignedCertificate(
  dir: string,
  commonName: string,
  fileNames: { cert: string; key: string } = { cert: 'localhost.crt', key: 'localhost.key' },
): { cert: string; key: string } {
  const cert = path.join(dir, fileNames.cert);
  const key = path.join(dir, fileNames.key);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
