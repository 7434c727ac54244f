/**
 * The `baobei` command as a person runs it: first start (data dir, key file, admin token written
 * with mode 600, URL printed), `user add` with and without a running service, and bad input
 * ending with exit code 2 and one clear line.
 */
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runCli, spawnService } from '../support/childService.js';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'baobei-cli-'));
}

async function me(
  url: string,
  token: string,
): Promise<{ status: number; body: { name?: string; role?: string; team?: string } }> {
  const res = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as { name?: string; role?: string; team?: string } };
}

function tokenFrom(stdout: string): string {
  const match = /(bb_[A-Za-z0-9_-]{20,})/.exec(stdout);
  if (!match?.[1]) throw new Error(`no token in: ${stdout}`);
  return match[1];
}

describe('baobei command', () => {
  it('first start creates the data dir, a key file and the admin token (mode 600), and prints where', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    // No BAOBEI_KEY: the key file is created.
    const service = await spawnService({ dataDir, key: '' });
    try {
      expect(service.stdout()).toContain(path.join(dataDir, 'admin.token'));
      expect(service.stdout()).toMatch(/listening: http:\/\//);
      for (const file of ['admin.token', 'baobei.key']) {
        expect((await stat(path.join(dataDir, file))).mode & 0o777).toBe(0o600);
      }
      const token = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
      expect(await me(service.url, token)).toMatchObject({
        status: 200,
        body: { name: 'admin', role: 'admin' },
      });
      // Tokens are stored hashed: the token itself is nowhere in the data file.
      expect(await readFile(path.join(dataDir, 'baobei.json'), 'utf8')).not.toContain(token);
    } finally {
      await service.kill('SIGTERM');
    }
  });

  it('user add opens the store when no service runs, and asks the service when one does', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const offline = await runCli(['user', 'add', '--name', '王磊', '--role', 'sales', '--team', '华东一部'], {
      dataDir,
      key,
    });
    expect(offline.code, offline.stderr).toBe(0);
    const wang = tokenFrom(offline.stdout);

    const service = await spawnService({ dataDir, key });
    try {
      expect(await me(service.url, wang)).toMatchObject({
        status: 200,
        body: { name: '王磊', role: 'sales', team: '华东一部' },
      });
      const online = await runCli(['user', 'add', '--name', '周主管', '--role', 'reviewer'], {
        dataDir,
        key,
        env: { BAOBEI_URL: service.url },
      });
      expect(online.code, online.stderr).toBe(0);
      expect(await me(service.url, tokenFrom(online.stdout))).toMatchObject({
        status: 200,
        body: { role: 'reviewer' },
      });
      // The same name twice: refused with one line, exit 2.
      const again = await runCli(['user', 'add', '--name', '王磊', '--role', 'sales'], {
        dataDir,
        key,
        env: { BAOBEI_URL: service.url },
      });
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('王磊');
      expect(again.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await service.kill('SIGTERM');
    }
  });

  it('bad arguments and bad configuration end with exit 2 and one line naming the problem', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const role = await runCli(['user', 'add', '--name', 'x', '--role', 'boss'], { dataDir, key });
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('boss');
    const port = await runCli(['serve'], { dataDir, key, env: { PORT: 'abc' } });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('PORT');
    expect(port.stderr).not.toMatch(/^\s+at /m);
    const badKey = await runCli(['user', 'add', '--name', 'y', '--role', 'sales'], { dataDir, key: 'short' });
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain('BAOBEI_KEY');
  });
});
