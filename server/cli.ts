/**
 * The `baobei` command: `serve` runs the service; `user add` creates a user (through the running
 * service when one holds the data dir or one is named with --url, else on the store directly);
 * `import` checks a legacy sheet. Exit codes: 0 done, 2 unusable input, arguments, configuration
 * or an unreachable service, 1 internal failure.
 */
import { Command, CommanderError, Option } from 'commander';
import { DomainError, problem, type Problem } from '../core/problem.js';
import { refuseParseErrors, usageProblem } from './cliParseProblem.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { ROLES, type Role } from './store/store.js';
import type { ImportCommandOptions } from './import/importCommand.js';
import type { runStoreCopy } from './storeCommand.js';
import { callService, findService, serviceError, serviceJson, serviceToken } from './serviceClient.js';
import { VERSION } from './version.js';

// Each command loads what it runs when it runs (import() in its action): the service, the import,
// the store commands and the Sheets client are some 300 modules, which `bin/baobei.js` transforms
// through tsx at every start — 1–2 s for `--version` or `--help` on an idle machine, 5–10 s on a
// loaded one, before this.

const URL_HELP =
  'URL of the running service (default: BAOBEI_URL, else the one the service recorded in the data dir)';
const TOKEN_HELP = "token for the running service (default: BAOBEI_TOKEN, else the data dir's admin.token)";

export function buildProgram(): Command {
  const program = new Command('baobei')
    .description('客户报备与保护期 — customer registration and protection')
    .version(VERSION, '-V, --version', 'the version of this Baobei');

  program
    .command('serve')
    .description('start the HTTP service (PORT, BAOBEI_DATA_DIR, BAOBEI_KEY …)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const { startService } = await import('./service.js');
      const running = await startService(config, { logger, say: (line) => console.log(line) });
      const stop = async (signal: string) => {
        logger.info({ signal }, 'shutting down');
        await running.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });

  const user = program.command('user').description('manage users');
  user
    .command('add')
    .description('create a user and print the token (shown once)')
    .requiredOption('--name <name>', 'display name, unique (e.g. 王磊)')
    .addOption(new Option('--role <role>', 'role').choices([...ROLES]).makeOptionMandatory())
    .option('--team <team>', 'team (e.g. 华东一部)')
    .option('--url <url>', URL_HELP)
    .option('--token <token>', TOKEN_HELP)
    .action(async (opts: { name: string; role: Role; team?: string; url?: string; token?: string }) => {
      const config = loadConfig();
      const { url, token, ...input } = opts;
      const created = await addUser(config, input, { url, token });
      console.log(
        `用户已创建 / user created: ${created.name} (${created.role}${created.team ? `, ${created.team}` : ''})`,
      );
      console.log(`令牌（只显示这一次）/ token (shown once): ${created.token}`);
    });

  program
    .command('import')
    .description('check a legacy sheet (.xlsx/.csv) and write the annotated workbook')
    .argument('<file>', 'the sheet to import')
    .option('--sheet <name>', 'sheet name or 1-based position (default: the first with data)')
    .addOption(
      new Option('--mode <mode>', 'submit new registrations, or migrate the history register (admin)')
        .choices(['submit', 'history'])
        .default('submit'),
    )
    .option('--dry-run', 'check against the store and within the file; save nothing', false)
    .option('--out <file>', 'annotated workbook (default FILE.checked.xlsx)')
    .option('--json <file>', 'write the JSON report here')
    .option(
      '--as <name>',
      'register as this user when the store is opened directly (default: the administrator)',
    )
    .addOption(
      new Option('--format <format>', 'the file format, for a name without .xlsx/.xlsm/.csv').choices([
        'xlsx',
        'csv',
      ]),
    )
    .option('--token <token>', TOKEN_HELP)
    .option('--url <url>', URL_HELP)
    .action(async (file: string, opts: ImportCommandOptions & { dryRun: boolean }) => {
      const config = loadConfig();
      const { runImportCommand } = await import('./import/importCommand.js');
      console.log(await runImportCommand(file, opts, config));
    });

  const calendar = program
    .command('calendar')
    .description('the working-day schedule (法定节假日安排) per year');
  calendar
    .command('set')
    .description(
      'enter a year’s official holiday schedule (administrators): FILE is .json or .csv (date, 休/班, name)',
    )
    .argument('<year>', 'the year, e.g. 2027')
    .argument('<file>', 'the schedule file')
    .option(
      '--token <token>',
      'administrator token for a running service (default BAOBEI_TOKEN or the admin token)',
    )
    .option('--url <url>', 'URL of a running service (default BAOBEI_URL or http://localhost:PORT)')
    .action(async (yearText: string, file: string, opts: { token?: string; url?: string }) => {
      const { describeCalendar, readScheduleFile, setCalendar } = await import('./calendarCommand.js');
      const config = loadConfig();
      const year = yearOf(yearText);
      const body = await readScheduleFile(file, year);
      const result = await setCalendar(config, year, body, opts);
      for (const line of describeCalendar(result.calendar)) console.log(line);
      console.log(
        `已确认 ${result.confirmed} 个估算期限；${result.moved.length} 个未结期限按新安排会变动（仍按原日期执行，请审核人决定）/ ` +
          `${result.confirmed} estimated deadlines confirmed; ${result.moved.length} open deadlines would move (kept as promised; a reviewer decides)`,
      );
      for (const m of result.moved)
        console.log(`  ${m.registrationNo} ${m.field}: ${m.stored} → ${m.wouldBe}`);
    });
  calendar
    .command('show')
    .description('the schedule in force for a year and where it came from')
    .argument('<year>', 'the year, e.g. 2027')
    .option('--token <token>', 'token for a running service')
    .option('--url <url>', 'URL of a running service')
    .action(async (yearText: string, opts: { token?: string; url?: string }) => {
      const { describeCalendar, showCalendar } = await import('./calendarCommand.js');
      const config = loadConfig();
      for (const line of describeCalendar(await showCalendar(config, yearOf(yearText), opts)))
        console.log(line);
    });

  const sheets = program
    .command('sheets')
    .description('Google Sheets links (through the running service; reviewers and administrators)');
  sheets
    .command('link')
    .description('link a Google spreadsheet tab: rows typed there are registered and results written back')
    .argument('<spreadsheet>', 'the spreadsheet URL (…/spreadsheets/d/ID/…) or its id')
    .requiredOption('--sheet <name>', 'the tab (e.g. 报备)')
    .requiredOption('--team <team>', 'the team the rows belong to (e.g. 华东一部)')
    .option('--owner <name>', 'who registers rows without a 报备人 column (default: you)')
    .option('--url <url>', URL_HELP)
    .option('--token <token>', TOKEN_HELP)
    .action(
      async (
        spreadsheet: string,
        opts: { sheet: string; team: string; owner?: string; url?: string; token?: string },
      ) => {
        const { describeLinked, linkSheet } = await import('./sheets/sheetsCommand.js');
        const { url, token, ...rest } = opts;
        const linked = await linkSheet(loadConfig(), { spreadsheet, ...rest }, { url, token });
        for (const line of describeLinked(linked)) console.log(line);
      },
    );
  sheets
    .command('list')
    .description('the linked sheets: tab, team, owner, paused, last sync, last error')
    .option('--url <url>', URL_HELP)
    .option('--token <token>', TOKEN_HELP)
    .action(async (opts: { url?: string; token?: string }) => {
      const { describeLinks, listLinks } = await import('./sheets/sheetsCommand.js');
      for (const line of describeLinks(await listLinks(loadConfig(), opts))) console.log(line);
    });
  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    sheets
      .command(name)
      .description(paused ? 'stop syncing a link (kept; resume restarts it)' : 'sync a paused link again')
      .argument('<link>', 'the link id (sheet-…) or its tab name')
      .option('--url <url>', URL_HELP)
      .option('--token <token>', TOKEN_HELP)
      .action(async (nameOrId: string, opts: { url?: string; token?: string }) => {
        const { setPaused } = await import('./sheets/sheetsCommand.js');
        const link = await setPaused(loadConfig(), nameOrId, paused, opts);
        console.log(
          paused
            ? `已暂停 / paused: ${link.id} (${link.sheet})`
            : `已恢复 / resumed: ${link.id} (${link.sheet})`,
        );
      });
  }
  sheets
    .command('unlink')
    .description('remove a link (the spreadsheet and the registrations stay)')
    .argument('<link>', 'the link id (sheet-…) or its tab name')
    .option('--url <url>', URL_HELP)
    .option('--token <token>', TOKEN_HELP)
    .action(async (nameOrId: string, opts: { url?: string; token?: string }) => {
      const { unlinkSheet } = await import('./sheets/sheetsCommand.js');
      const link = await unlinkSheet(loadConfig(), nameOrId, opts);
      console.log(`已取消链接 / unlinked: ${link.id} (${link.sheet})`);
    });
  sheets
    .command('sync')
    .description('sync one link now')
    .argument('<link>', 'the link id (sheet-…) or its tab name')
    .option('--dry-run', 'check the rows and report; register and write nothing', false)
    .option('--url <url>', URL_HELP)
    .option('--token <token>', TOKEN_HELP)
    .action(async (nameOrId: string, opts: { dryRun: boolean; url?: string; token?: string }) => {
      const { describeSync, syncSheet } = await import('./sheets/sheetsCommand.js');
      const { dryRun, ...via } = opts;
      console.log(describeSync(await syncSheet(loadConfig(), nameOrId, dryRun, via)));
    });

  const storeCommand = program.command('store').description('the store as a whole');
  storeCommand
    .command('copy')
    .description(
      'copy everything (records, users, documents, audit, kept files) into another store, verified record by record',
    )
    .addOption(
      new Option('--from <kind>', 'source store').choices(['lowdb', 'postgres']).makeOptionMandatory(),
    )
    .addOption(new Option('--to <kind>', 'target store').choices(['lowdb', 'postgres']).makeOptionMandatory())
    .option('--data-dir <dir>', 'lowdb data dir (default BAOBEI_DATA_DIR)')
    .option('--pg-url <url>', 'PostgreSQL URL (default DATABASE_URL)')
    .option('--pg-schema <schema>', 'PostgreSQL schema (default BAOBEI_PG_SCHEMA)')
    .option('--to-data-dir <dir>', 'target lowdb data dir, when both are lowdb')
    .option('--to-pg-url <url>', 'target PostgreSQL URL, when both are PostgreSQL')
    .option('--to-pg-schema <schema>', 'target PostgreSQL schema, when both are PostgreSQL')
    .option('--force', 'replace a target that holds data (it is kept aside, renamed)', false)
    .action(async (opts: Parameters<typeof runStoreCopy>[1]) => {
      const { runStoreCopy } = await import('./storeCommand.js');
      const config = loadConfig();
      await runStoreCopy(config, opts, (line) => console.log(line));
    });

  storeCommand
    .command('rekey')
    .description(
      "compute every record's identity keys again under the current rules (the service does it at start when they changed); run with the service stopped",
    )
    .option(
      '--force',
      'check every record even when the recorded rules are current (after an older release ran on the store)',
    )
    .action(async (opts: { force?: boolean }) => {
      const { runRekey } = await import('./storeCommand.js');
      await runRekey(loadConfig(), (line) => console.log(line), { force: opts.force === true });
    });

  program
    .command('backup')
    .description('write an encrypted, consistent backup (BAOBEI_BACKUP_KEY) while the service runs')
    .argument('<file>', 'the backup file to write')
    .option('--url <url>', URL_HELP)
    .option('--token <token>', TOKEN_HELP)
    .action(async (file: string, opts: { url?: string; token?: string }) => {
      const { runBackup } = await import('./storeCommand.js');
      const config = loadConfig();
      const header = await runBackup(config, file, opts);
      console.log(`备份已写入 / backup written: ${file} (${header.createdAt}, ${header.store})`);
      for (const [name, n] of Object.entries(header.counts)) console.log(`  ${name}: ${n}`);
    });

  program
    .command('restore')
    .description('restore a backup into an empty store (BAOBEI_BACKUP_KEY and the data key BAOBEI_KEY)')
    .argument('<file>', 'the backup file')
    .option('--data-dir <dir>', 'restore into this lowdb data dir')
    .option('--pg-url <url>', 'restore into PostgreSQL at this URL')
    .option(
      '--pg-schema <schema>',
      'restore into this PostgreSQL schema (default BAOBEI_PG_SCHEMA; URL from DATABASE_URL)',
    )
    .action(async (file: string, opts: { dataDir?: string; pgUrl?: string; pgSchema?: string }) => {
      const { runRestore } = await import('./storeCommand.js');
      const config = loadConfig();
      await runRestore(config, file, opts, (line) => console.log(line));
      console.log('已恢复 / restored');
    });

  return program;
}

function yearOf(text: string): number {
  const year = Number(text);
  if (!/^\d{4}$/.test(text) || year < 2000 || year > 2100) {
    throw new DomainError(
      problem(
        'calendar.year_invalid',
        `年份须为 2000–2100 的四位数字：${text}`,
        `the year must be 2000–2100: ${text}`,
        'year',
      ),
    );
  }
  return year;
}

async function addUser(
  config: Config,
  input: { name: string; role: Role; team?: string | undefined },
  via: { url?: string | undefined; token?: string | undefined },
): Promise<{ name: string; role: Role; team?: string | undefined; token: string }> {
  const target = findService(config, via.url);
  if (target) {
    // A service owns the data dir (or was named): ask it over HTTP, as the administrator by default.
    const token = await serviceToken(config, via.token);
    const res = await callService(target, '/api/users', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    const body = await serviceJson<{
      token?: string;
      error?: { code: string; message: string; messageEn: string };
    }>(target, res);
    if (!res.ok || body.token === undefined) throw serviceError(res, body);
    return { ...input, token: body.token };
  }
  const { FIRST_ADMIN_NAME, configuredStoreExists, ensureAdmin, openStore } = await import('./service.js');
  const { createUser, userExists } = await import('./services/userService.js');
  // A store not there yet is made on opening, with its first administrator (FIRST_ADMIN_NAME) and
  // admin.token: adding that name would be refused after both were made, so it is refused first.
  if (input.name === FIRST_ADMIN_NAME && !(await configuredStoreExists(config))) {
    throw new DomainError(userExists(input.name));
  }
  const { store } = await openStore(config, 'user add');
  try {
    await ensureAdmin(store, config.dataDir, new Date());
    const { token } = await createUser(store, input, new Date());
    return { ...input, token };
  } finally {
    await store.close();
  }
}

/** One line: the code is what a script or a support note keys on; the messages are for the person. */
function printRefusal(p: Problem): void {
  console.error(`${p.message} / ${p.messageEn} [${p.code}]`);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Parse errors arrive as DomainErrors, printed below as every refusal is.
  refuseParseErrors(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, --version: commander printed them.
      if (err.exitCode === 0) return 0;
      printRefusal(usageProblem(err));
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof DomainError) {
      printRefusal(err.toProblem());
      return 2;
    }
    console.error(`内部错误 / internal error: ${(err as Error).message}`);
    if (process.env['BAOBEI_DEBUG']) console.error((err as Error).stack);
    return 1;
  }
}

const isEntry = process.argv[1] !== undefined && /(?:cli\.[jt]s|baobei(?:\.js)?)$/.test(process.argv[1]);
if (isEntry) {
  const code = await main(process.argv.slice(2));
  // `serve` keeps the event loop alive; every other command ends here.
  if (code !== 0 || process.argv[2] !== 'serve') process.exit(code);
}
