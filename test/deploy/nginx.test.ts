/**
 * The example nginx configuration in docs/deploy/ is valid: real nginx (`nginx -t`, from apt:
 * `apt-get install -y nginx-light`) reads it inside a minimal main configuration, with a throwaway
 * self-signed certificate in place of certbot's. A config nginx refuses fails the same check, so the
 * check can tell. And it sends what the service relies on behind a proxy (forwarded headers).
 */
import { spawnSync } from 'node:child_process';
import { writeSelfSignedCertificate } from '../support/selfSignedCertificate.js';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const EXAMPLE = path.join(REPO, 'docs', 'deploy', 'nginx-baobei.conf');
const NGINX = '/usr/sbin/nginx';

let dir: string;
let cert: string;
let key: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'baobei-nginx-'));
  ({ cert, key } = writeSelfSignedCertificate(dir, 'baobei.example.com', {
    cert: 'fullchain.pem',
    key: 'privkey.pem',
  }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `nginx -t` on the site config inside a main config that keeps every path in the temp dir. */
async function nginxTest(site: string): Promise<{ ok: boolean; output: string }> {
  const sitePath = path.join(dir, 'site.conf');
  await writeFile(
    sitePath,
    site
      .replaceAll('/etc/letsencrypt/live/baobei.example.com/fullchain.pem', cert)
      .replaceAll('/etc/letsencrypt/live/baobei.example.com/privkey.pem', key),
  );
  const main = path.join(dir, 'nginx.conf');
  await writeFile(
    main,
    [
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${path.join(dir, 'error.log')};`,
      'events {}',
      'http {',
      `  access_log ${path.join(dir, 'access.log')};`,
      `  client_body_temp_path ${path.join(dir, 'body')};`,
      `  proxy_temp_path ${path.join(dir, 'proxy')};`,
      `  fastcgi_temp_path ${path.join(dir, 'fastcgi')};`,
      `  uwsgi_temp_path ${path.join(dir, 'uwsgi')};`,
      `  scgi_temp_path ${path.join(dir, 'scgi')};`,
      `  include ${sitePath};`,
      '}',
      '',
    ].join('\n'),
  );
  const run = spawnSync(NGINX, ['-t', '-p', dir, '-c', main], { encoding: 'utf8' });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

describe('docs/deploy/nginx-baobei.conf', () => {
  it('is found: nginx is installed (apt-get install -y nginx-light)', () => {
    expect(existsSync(NGINX), `${NGINX} is missing: apt-get install -y nginx-light`).toBe(true);
  });

  it('passes nginx -t', async () => {
    const result = await nginxTest(await readFile(EXAMPLE, 'utf8'));
    expect(result.output).toContain('syntax is ok');
    expect(result.ok, result.output).toBe(true);
  });

  it('the same check refuses a broken config', async () => {
    const broken = (await readFile(EXAMPLE, 'utf8')).replace(
      'proxy_http_version 1.1;',
      'proxy_http_version 1.1',
    );
    const result = await nginxTest(broken);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/emerg/);
  });

  it('forwards what the service trusts behind a proxy, redirects plain HTTP, and allows the upload limit', async () => {
    const site = await readFile(EXAMPLE, 'utf8');
    expect(site).toContain('proxy_set_header X-Forwarded-Proto $scheme;');
    expect(site).toContain('proxy_set_header X-Forwarded-Host $host;');
    expect(site).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    expect(site).toContain('return 301 https://$host$request_uri;');
    const body = /client_max_body_size (\d+)m;/.exec(site);
    expect(Number(body?.[1])).toBeGreaterThanOrEqual(20);
    expect(site).toContain('BAOBEI_TRUST_PROXY=loopback');
  });
});
