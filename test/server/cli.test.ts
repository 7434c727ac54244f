/**
 * The `baobei` command as a person runs it: first start (data dir, key file, admin token written
 * with mode 600, URL printed), `user add` with and without a running service, and bad input
 * ending with exit code 2 and one clear line. The first hour (issue 8 §6): commands find the
 * service on whatever port it runs through the data dir's lock, an unreachable service is named,
 * a busy port leaves nothing behind, and every message — config errors and the import's summary
 * line included — is in Chinese and English.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CLI_TEST_TIMEOUT, SHIPPED_CLI } from '../support/builtCli.js';
import { closedPort, runCli, spawnService } from '../support/childService.js';
import { enterpriseRow } from '../support/customers.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

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

describe('baobei command', { timeout: CLI_TEST_TIMEOUT }, () => {
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

  // Five commands in child processes, each a node start (9.5 s in all alone): past 30 s when the
  // whole suite shares two cores.
  it('a key file gone missing beside existing data is refused, never replaced by a new key (lowdb and PostgreSQL)', async () => {
    const schema = `cli_key_${process.pid}_${Date.now() % 100_000}`;
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    try {
      const stores: Record<string, string>[] = [
        {},
        { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema },
      ];
      for (const env of stores) {
        const dataDir = await tempDir();
        const keyFile = path.join(dataDir, 'baobei.key');
        // No BAOBEI_KEY: the first command makes the store and its key file.
        const first = await runCli(['user', 'add', '--name', '王磊', '--role', 'sales'], {
          dataDir,
          key: '',
          env,
        });
        expect(first.code, first.stderr).toBe(0);
        const original = await readFile(keyFile);
        await rm(keyFile);
        // Another data dir too, as a second PostgreSQL instance on a new machine would have.
        for (const dir of 'BAOBEI_STORE' in env ? [dataDir, await tempDir()] : [dataDir]) {
          const run = await runCli(['serve'], { dataDir: dir, key: '', env: { ...env, PORT: '0' } });
          expect(run.code, run.stderr).toBe(2);
          const [line, ...rest] = oneLine(run.stderr);
          expect(rest).toEqual([]);
          expect(line).toMatch(
            /已有数据，但密钥文件 .*baobei\.key 不见了.* \/ .*holds data but the key file .*baobei\.key is missing/,
          );
          expect(existsSync(path.join(dir, 'baobei.key'))).toBe(false);
        }
        // The original key put back: the data is read again.
        await writeFile(keyFile, original, { mode: 0o600 });
        const again = await runCli(['user', 'add', '--name', '李娜', '--role', 'sales'], {
          dataDir,
          key: '',
          env,
        });
        expect(again.code, again.stderr).toBe(0);
      }
    } finally {
      await dropSchema(DATABASE_URL, schema);
      await admin.end();
    }
  }, 90_000);

  it('a key refused after the store was found (invalid, or not the one of the PostgreSQL store) leaves no data dir behind', async () => {
    const schema = `cli_wrongkey_${process.pid}_${Date.now() % 100_000}`;
    const env = { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema };
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    try {
      const made = await runCli(['user', 'add', '--name', '王磊', '--role', 'sales'], {
        dataDir: await tempDir(),
        key: randomBytes(32).toString('hex'),
        env,
      });
      expect(made.code, made.stderr).toBe(0);
      for (const [what, key, extra, code] of [
        ['another key', randomBytes(32).toString('hex'), env, 'store.key_mismatch'],
        ['an invalid key', 'short', {}, 'config.key_invalid'],
      ] as const) {
        const dataDir = path.join(await tempDir(), 'fresh-data');
        const run = await runCli(['user', 'add', '--name', '李娜', '--role', 'sales'], {
          dataDir,
          key,
          env: extra,
        });
        expect(run.code, `${what}: ${run.stderr}`).toBe(2);
        expect(oneLine(run.stderr), what).toHaveLength(1);
        expect(run.stderr, what).toContain(`[${code}]`);
        expect(existsSync(dataDir), what).toBe(false);
      }
    } finally {
      await dropSchema(DATABASE_URL, schema);
      await admin.end();
    }
  }, 90_000);

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
  }, 90_000);

  it('user add --name admin on a fresh data dir is refused before anything is made (the first start makes that administrator)', async () => {
    const dataDir = path.join(await tempDir(), 'fresh');
    const run = await runCli(['user', 'add', '--name', 'admin', '--role', 'sales'], { dataDir, key: '' });
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('[user.exists]');
    expect(run.stderr).toContain('"admin"');
    expect(existsSync(dataDir)).toBe(false);
  }, 90_000);

  it('bad arguments and bad configuration end with exit 2 and one line naming the problem', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    // --version answers with package.json's, exit 0 (it was "unknown option").
    const { version } = JSON.parse(
      await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };
    const shown = await runCli(['--version'], { dataDir, key });
    expect([shown.code, shown.stdout.trim()]).toEqual([0, version]);
    // The command as shipped (bin/baobei.js, the sources through tsx) too: the rest of the file runs
    // the run's transpiled build (support/builtCli.ts).
    const shipped = await runCli(['--version'], { dataDir, key, entry: SHIPPED_CLI });
    expect([shipped.code, shipped.stdout.trim()]).toEqual([0, version]);
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

  // Ten node starts in child processes (about 2 s each alone, more on a shared machine).
  it('option-parser errors are one bilingual line with a stable code, naming the option, exit 2', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const key = randomBytes(32).toString('hex');
    const cases: [string[], string, string[]][] = [
      [
        ['user', 'add', '--name', 'x', '--role', 'boss'],
        'cli.option_invalid',
        ['--role', 'boss', 'sales, reviewer, admin'],
      ],
      [['user', 'add', '--name'], 'cli.option_value_missing', ['--name']],
      [['user', 'add', '--role', 'sales'], 'cli.option_required', ['--name']],
      [['store', 'rekey', '--forse'], 'cli.option_unknown', ['--forse', '--force']],
      [['store', 'rekey', 'extra'], 'cli.too_many_arguments', ['rekey', '0', '1']],
      [['restore'], 'cli.argument_missing', ['<file>']],
      // The subcommands to choose from are named, not commander's English help
      // (every case, in-process: cliParseProblem.test.ts).
      [['store', 'frob'], 'cli.command_unknown', ['store frob', 'copy', 'rekey']],
      [['store'], 'cli.command_missing', ['baobei store', 'copy', 'rekey']],
    ];
    for (const [args, code, named] of cases) {
      const run = await runCli(args, { dataDir, key });
      const lines = oneLine(run.stderr);
      expect(run.code, run.stderr).toBe(2);
      expect(lines, run.stderr).toHaveLength(1);
      const [zh, en] = lines[0]!.split(' / ');
      expect(zh, run.stderr).toMatch(CJK);
      expect(en, run.stderr).not.toMatch(CJK);
      expect(lines[0]!.endsWith(`[${code}]`), run.stderr).toBe(true);
      for (const name of named) {
        expect(zh, run.stderr).toContain(name);
        expect(en, run.stderr).toContain(name);
      }
    }
    // Refused while parsing: no data dir, key or store made.
    expect(existsSync(dataDir)).toBe(false);
    // Asked for, the help is commander's, on stdout, exit 0.
    const help = await runCli(['store', '--help'], { dataDir, key });
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^Usage: baobei store/);
    expect(help.stdout).toContain('rekey');
  }, 120_000);
});

/** A CSV of `n` valid enterprise rows under Chinese headers. */
function csvOf(n: number, from = 0): string {
  const lines = ['客户名称,客户类型,统一社会信用代码,区域,联系电话,客户来源'];
  for (let i = from; i < from + n; i++) {
    const r = enterpriseRow(i);
    lines.push([r.customerName, r.customerType, r.creditCode, r.region, r.contactPhone, r.source].join(','));
  }
  return lines.join('\n') + '\n';
}

const oneLine = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
const CJK = /[\u4e00-\u9fff]/;

describe('the first hour (issue 8 §6)', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('user add and import find a service on any port through the data dir lock (no --url, no BAOBEI_URL)', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    // PORT=0: the service takes a random port; the CLI's own PORT (also 0) says nothing useful.
    const service = await spawnService({ dataDir, key });
    try {
      const lock = JSON.parse(await readFile(path.join(dataDir, 'baobei.lock'), 'utf8')) as {
        url?: string;
        pid: number;
      };
      expect(lock).toMatchObject({ pid: service.pid, url: service.url });

      const added = await runCli(['user', 'add', '--name', '王磊', '--role', 'sales'], { dataDir, key });
      expect(added.code, added.stderr).toBe(0);
      expect(await me(service.url, tokenFrom(added.stdout))).toMatchObject({
        status: 200,
        body: { name: '王磊' },
      });

      const file = path.join(dataDir, '..', `import-${randomBytes(3).toString('hex')}.csv`);
      await writeFile(file, csvOf(3));
      const imported = await runCli(['import', file], { dataDir, key });
      expect(imported.code, imported.stderr).toBe(0);
      // The service saved the rows (the CLI could not have opened its store).
      const admin = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
      const list = await fetch(`${service.url}/api/registrations?limit=1`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(((await list.json()) as { total: number }).total).toBe(3);
    } finally {
      await service.kill('SIGTERM');
    }
  });

  it('an unreachable service: one bilingual line naming the address tried (and where it came from), exit 2', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const port = await closedPort();
    const named = await runCli(
      [
        'user',
        'add',
        '--name',
        '王磊',
        '--role',
        'sales',
        '--url',
        `http://127.0.0.1:${port}`,
        '--token',
        'bb_x',
      ],
      {
        dataDir,
        key,
      },
    );
    expect(named.code).toBe(2);
    expect(oneLine(named.stderr)).toHaveLength(1);
    expect(named.stderr).toContain(`http://127.0.0.1:${port}`);
    expect(named.stderr).toMatch(/无法连接服务.*ECONNREFUSED.*\/ Cannot reach the service/);
    expect(named.stderr).toContain('--url');
    expect(named.stderr).not.toContain('内部错误');

    // A lock held by a live process that recorded a URL where nothing answers (a service that hung
    // up its socket): `import` names that URL and the lock file it came from.
    await writeFile(
      path.join(dataDir, 'baobei.lock'),
      JSON.stringify({
        pid: process.pid,
        host: os.hostname(),
        since: new Date().toISOString(),
        purpose: 'serve',
        url: `http://127.0.0.1:${port}`,
      }),
    );
    await writeFile(path.join(dataDir, 'admin.token'), 'bb_x\n');
    const file = path.join(dataDir, 'a.csv');
    await writeFile(file, csvOf(1));
    const viaLock = await runCli(['import', file], { dataDir, key });
    expect(viaLock.code).toBe(2);
    expect(oneLine(viaLock.stderr)).toHaveLength(1);
    expect(viaLock.stderr).toContain(`http://127.0.0.1:${port}`);
    expect(viaLock.stderr).toContain(path.join(dataDir, 'baobei.lock'));
  });

  it('a busy port: a bilingual line naming the port, exit 2, and no data dir created', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const dataDir = path.join(await tempDir(), 'fresh-data');
      const run = await runCli(['serve'], { dataDir, key: '', env: { PORT: String(port) } });
      expect(run.code).toBe(2);
      expect(oneLine(run.stderr)).toHaveLength(1);
      expect(run.stderr).toMatch(new RegExp(`端口 ${port} 已被占用.* / Port ${port} is already in use`));
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('a PostgreSQL that is down or a DATABASE_URL that is no URL: one bilingual line, exit 2, no password', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const port = await closedPort();
    const down = await runCli(['serve'], {
      dataDir,
      key,
      env: {
        BAOBEI_STORE: 'postgres',
        DATABASE_URL: `postgres://baobei:pw-never-shown@127.0.0.1:${port}/baobei`,
        PORT: '0',
      },
    });
    expect(down.code).toBe(2);
    expect(oneLine(down.stderr)).toEqual([
      `无法使用 PostgreSQL 127.0.0.1:${port}/baobei：连接被拒绝（服务器未运行，或端口不对） / ` +
        `Cannot use PostgreSQL at 127.0.0.1:${port}/baobei: connection refused (the server is not running, or the port is wrong) [store.unreachable]`,
    ]);
    expect(down.stdout + down.stderr).not.toContain('pw-never-shown');

    const notUrl = await runCli(['serve'], {
      dataDir,
      key,
      env: { BAOBEI_STORE: 'postgres', DATABASE_URL: 'db.internal:5432/baobei', PORT: '0' },
    });
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toMatch(
      /DATABASE_URL: 须为 postgres:\/\/ .* \/ must be a postgres:\/\/ or postgresql:\/\/ URL/,
    );
    expect(notUrl.stderr).not.toContain('内部错误');
  });

  // Eleven node starts in child processes: about 30 s when the machine's two cores are shared.
  it('configuration errors are bilingual and name the variable', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const port = await runCli(['serve'], { dataDir, key, env: { PORT: 'abc' } });
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/^配置错误 \/ invalid configuration:/);
    expect(port.stderr).toMatch(/PORT: 无效输入.* \/ Invalid input/);
    const several = await runCli(['serve'], {
      dataDir,
      key,
      env: { BAOBEI_STORE: 'mongo', BAOBEI_JSON_LIMIT: 'huge', BAOBEI_TRUST_PROXY: 'my-proxy' },
    });
    expect(several.code).toBe(2);
    const lines = oneLine(several.stderr).slice(1);
    expect(lines.map((l) => l.trim().split(':')[0])).toEqual([
      'BAOBEI_STORE',
      'BAOBEI_JSON_LIMIT',
      'BAOBEI_TRUST_PROXY',
    ]);
    for (const line of lines) {
      expect(line, line).toMatch(CJK);
      expect(line, line).toMatch(/ \/ [A-Za-z]/);
    }
    // z.url() alone took "localhost:3000" (scheme "localhost:") and the manifest pointed nowhere.
    const publicUrl = await runCli(['serve'], { dataDir, key, env: { BAOBEI_PUBLIC_URL: 'localhost:3000' } });
    expect(publicUrl.code).toBe(2);
    expect(publicUrl.stderr).toContain(
      'BAOBEI_PUBLIC_URL: 须为 http:// 或 https:// 地址 / must be an http:// or https:// URL',
    );
    // A HOST that does not resolve: named, not "internal error: getaddrinfo ENOTFOUND".
    const host = await runCli(['serve'], { dataDir, key, env: { HOST: 'baobei-host.invalid', PORT: '0' } });
    expect(host.code).toBe(2);
    expect(host.stderr).toMatch(
      /主机名 baobei-host\.invalid 无法解析.* \/ .*the host name baobei-host\.invalid does not resolve/,
    );
    // A data dir that cannot be made: named, with the reason, not "internal error: EEXIST".
    const aFile = path.join(dataDir, 'a-file');
    await writeFile(aFile, 'x');
    for (const [dir, reason] of [
      [aFile, 'is not a directory (a file has that name)'],
      [path.join(aFile, 'data'), 'has a file, not a directory, in its path'],
    ] as const) {
      const run = await runCli(['serve'], { dataDir: dir, key, env: { PORT: '0' } });
      expect(run.code).toBe(2);
      const [headline, line, ...rest] = oneLine(run.stderr);
      expect([headline, rest]).toEqual(['配置错误 / invalid configuration:', []]);
      expect(line).toMatch(CJK);
      expect(line!.trim().startsWith(`BAOBEI_DATA_DIR: ${dir} `)).toBe(true);
      expect(line!.endsWith(` / ${dir} ${reason}`)).toBe(true);
    }
    const tls = await runCli(['serve'], { dataDir, key, env: { BAOBEI_TLS_CERT: 'x.pem' } });
    expect(tls.stderr).toMatch(/BAOBEI_TLS_KEY: .*[\u4e00-\u9fff].* \/ required when BAOBEI_TLS_CERT is set/);
    // Both named, one missing: the variable, the file and the reason, in both languages.
    const notPem = path.join(dataDir, 'not-a-cert.pem');
    await writeFile(notPem, 'not a certificate\n');
    const missingFile = await runCli(['serve'], {
      dataDir,
      key,
      env: { BAOBEI_TLS_CERT: notPem, BAOBEI_TLS_KEY: path.join(dataDir, 'absent.key') },
    });
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toMatch(/BAOBEI_TLS_KEY: 无法读取 .*absent\.key（ENOENT） \/ cannot read/);
    // Both readable, neither a certificate: refused as configuration, not an internal error.
    const garbage = await runCli(['serve'], {
      dataDir,
      key,
      env: { BAOBEI_TLS_CERT: notPem, BAOBEI_TLS_KEY: notPem },
    });
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/^配置错误 \/ invalid configuration:/);
    expect(garbage.stderr).toMatch(/不是配对的 PEM 证书和私钥.* \/ .*not a matching PEM certificate/);
    expect(garbage.stderr).not.toContain('内部错误');
  }, 90_000);

  it('import: an unknown extension (.txt) is refused before the file is read unless --format says csv; the summary line is bilingual; --dry-run still writes the annotated copy', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const dir = await tempDir();
    // Refused from the name alone: the file does not even exist.
    const missing = await runCli(['import', path.join(dir, 'nowhere.txt')], { dataDir, key });
    expect(missing.code).toBe(2);
    expect(oneLine(missing.stderr)).toHaveLength(1);
    expect(missing.stderr).toMatch(/\.txt.*--format csv.*\/ Cannot tell the format.*\.txt.*--format csv/);
    expect(existsSync(dataDir + '/baobei.json')).toBe(false);

    const txt = path.join(dir, 'export.txt');
    await writeFile(txt, csvOf(2));
    expect((await runCli(['import', txt], { dataDir, key })).code).toBe(2);
    const wrong = await runCli(['import', txt, '--format', 'xlsx'], { dataDir, key });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/不是 \.xlsx 工作簿.*\/ .*is not an \.xlsx workbook/);

    const dry = await runCli(['import', txt, '--format', 'csv', '--dry-run'], { dataDir, key });
    expect(dry.code, dry.stderr).toBe(0);
    const [line, ...rest] = oneLine(dry.stdout);
    expect(rest).toEqual([]);
    const checked = path.join(dir, 'export.checked.xlsx');
    expect(line).toBe(
      `export.txt：2 行（试运行，未保存） — 待审核 2 → ${checked} / 2 rows (dry run, nothing saved) — pending review 2`,
    );
    expect(existsSync(checked)).toBe(true);

    const saved = await runCli(['import', txt, '--format', 'csv'], { dataDir, key });
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout.trim()).toBe(`export.txt：2 行 — 待审核 2 → ${checked} / 2 rows — pending review 2`);
  });

  it('import: an annotated copy or report that cannot be written is refused before any row is registered', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const dir = await tempDir();
    const csv = path.join(dir, 'rows.csv');
    await writeFile(csv, csvOf(2));
    for (const [args, field, reason] of [
      [['--out', path.join(dir, 'missing', 'out.xlsx')], 'out.xlsx', 'its directory does not exist'],
      [['--out', dir], dir, 'it is a directory'],
      [['--out', path.join(csv, 'out.xlsx')], 'out.xlsx', 'its path has a file where a directory should be'],
      [['--json', path.join(dir, 'missing', 'r.json')], 'r.json', 'its directory does not exist'],
    ] as const) {
      const run = await runCli(['import', csv, ...args], { dataDir, key });
      expect(run.code, run.stderr).toBe(2);
      const [line, ...rest] = oneLine(run.stderr);
      expect(rest).toEqual([]);
      expect(line).toMatch(/^无法写入 .*；未导入任何行 \/ Cannot write /);
      expect(line).toContain(field);
      expect(line!.endsWith(`: ${reason}; no row was imported [import.output_unwritable]`)).toBe(true);
    }
    // Nothing was registered: the same rows are new, not duplicates of a run that lost its copy.
    const saved = await runCli(['import', csv], { dataDir, key });
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toContain('/ 2 rows — pending review 2');
  });

  // Six imports in child processes (lowdb and PostgreSQL: two refused, then one accepted).
  it('import --as an unknown user, or a file without a header, on a fresh data dir or schema is refused before anything is made (no store, key or admin.token)', async () => {
    const schema = `cli_as_${process.pid}_${Date.now() % 100_000}`;
    const dir = await tempDir();
    const csv = path.join(dir, 'rows.csv');
    await writeFile(csv, csvOf(1));
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    try {
      const stores: Record<string, string>[] = [
        {},
        { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema },
      ];
      for (const env of stores) {
        const what = 'BAOBEI_STORE' in env ? 'postgres' : 'lowdb';
        const dataDir = path.join(await tempDir(), 'fresh-data');
        // No BAOBEI_KEY: an accepted run would make the key file too.
        const run = await runCli(['import', csv, '--as', '无此人', '--dry-run'], { dataDir, key: '', env });
        expect(run.code, `${what}: ${run.stderr}`).toBe(2);
        expect(oneLine(run.stderr)).toEqual([
          '没有名为“无此人”的用户 / No user named "无此人" [import.user_unknown]',
        ]);
        expect(existsSync(dataDir), what).toBe(false);
        // So is a file with no header row: read before a fresh store is made.
        const headless = path.join(dir, 'headless.csv');
        await writeFile(headless, 'foo,bar\n1,2\n');
        const unread = await runCli(['import', headless], { dataDir, key: '', env });
        expect(unread.code, `${what}: ${unread.stderr}`).toBe(2);
        expect(oneLine(unread.stderr)[0]).toMatch(/\[import\.no_header\]$/);
        expect(existsSync(dataDir), what).toBe(false);
        const schemas = await admin.query({
          text: 'SELECT 1 FROM pg_namespace WHERE nspname = $1',
          values: [schema],
        });
        expect(schemas.rowCount, what).toBe(0);
        // The first administrator, made on a fresh store, may still be named.
        const asAdmin = await runCli(['import', csv, '--as', 'admin', '--dry-run'], {
          dataDir,
          key: '',
          env,
        });
        expect(asAdmin.code, `${what}: ${asAdmin.stderr}`).toBe(0);
        expect(existsSync(path.join(dataDir, 'admin.token')), what).toBe(true);
      }
    } finally {
      await dropSchema(DATABASE_URL, schema);
      await admin.end();
    }
  }, 90_000);

  it('import: an .xls name is read and told apart — "rename it" would not help a real Excel 97–2003 file', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const dir = await tempDir();
    // A real BIFF workbook starts with the OLE compound file signature.
    const biff = path.join(dir, '旧台账.xls');
    await writeFile(
      biff,
      Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]),
    );
    const legacy = await runCli(['import', biff, '--dry-run'], { dataDir, key });
    expect(legacy.code).toBe(2);
    expect(oneLine(legacy.stderr)).toEqual([
      '旧台账.xls 是旧版 .xls 或加密的工作簿，请在 Excel 中另存为 .xlsx 后再上传 / 旧台账.xls is a legacy .xls or an encrypted workbook; save it as .xlsx in Excel and upload again [import.format_unsupported]',
    ]);
    // So is it with --format xlsx, rather than "not an .xlsx workbook".
    expect((await runCli(['import', biff, '--format', 'xlsx'], { dataDir, key })).stderr).toContain(
      '另存为 .xlsx',
    );
    // A text export under an .xls name is read as the text it is.
    const tsv = path.join(dir, 'export.xls');
    await writeFile(tsv, csvOf(2).replaceAll(',', '\t'));
    const read = await runCli(['import', tsv, '--dry-run'], { dataDir, key });
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain(
      `export.xls：2 行（试运行，未保存） — 待审核 2 → ${path.join(dir, 'export.checked.xlsx')}`,
    );
  });
});
