/**
 * The command line's mistakes as Problems, read from the real `baobei` program as commander parses
 * it (in-process: a refusal comes before any action runs). The code and the field come from
 * commander's data — the refusing command, its options, arguments and subcommands — so they are
 * pinned here exactly; the printed line is checked end to end in cli.test.ts.
 */
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../core/problem.js';
import { refuseParseErrors } from '../../server/cliParseProblem.js';
import { buildProgram } from '../../server/cli.js';

async function refusal(args: string[], adjust?: (program: Command) => void): Promise<DomainError> {
  const program = buildProgram();
  adjust?.(program);
  refuseParseErrors(program);
  const err: unknown = await program.parseAsync(args, { from: 'user' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof DomainError) return err;
  throw new Error(`not refused with a DomainError: ${String(err)}`);
}

const ROOT_COMMANDS = ['serve', 'user', 'import', 'calendar', 'sheets', 'store', 'backup', 'restore'];

describe('command-line refusals', () => {
  const cases: [args: string[], code: string, field: string, named: string[]][] = [
    [
      ['user', 'add', '--name', 'x', '--role', 'boss'],
      'cli.option_invalid',
      '--role',
      ['boss', 'sales, reviewer, admin'],
    ],
    [['user', 'add', '--name', 'x', '--role=boss'], 'cli.option_invalid', '--role', ['boss']],
    [['import', 'a.csv', '--format', 'xls'], 'cli.option_invalid', '--format', ['xls', 'xlsx, csv']],
    [
      ['store', 'copy', '--from', 'mysql', '--to', 'lowdb'],
      'cli.option_invalid',
      '--from',
      ['mysql', 'lowdb, postgres'],
    ],
    [['user', 'add', '--role', 'sales', '--name'], 'cli.option_value_missing', '--name', ['--name <name>']],
    [['user', 'add', '--name', 'x'], 'cli.option_required', '--role', ['--role <role>']],
    [['store', 'copy', '--from', 'lowdb'], 'cli.option_required', '--to', ['--to <kind>']],
    [['store', 'rekey', '--force', '--bogus=1'], 'cli.option_unknown', '--bogus=1', []],
    [['--frob'], 'cli.option_unknown', '--frob', []],
    [['calendar', 'set', '2027'], 'cli.argument_missing', 'file', ['<file>']],
    [['calendar', 'show', '2027', '2028'], 'cli.too_many_arguments', 'baobei calendar show', ['1', '2']],
    [['store', 'frob'], 'cli.command_unknown', 'frob', ['baobei store frob', 'copy, rekey']],
    [['frobnicate'], 'cli.command_unknown', 'frobnicate', ROOT_COMMANDS],
    [['help', 'frob'], 'cli.command_unknown', 'frob', ROOT_COMMANDS],
    [['store'], 'cli.command_missing', 'baobei store', ['copy, rekey']],
    [
      ['sheets'],
      'cli.command_missing',
      'baobei sheets',
      ['link', 'list', 'pause', 'resume', 'unlink', 'sync'],
    ],
    [[], 'cli.command_missing', 'baobei', ROOT_COMMANDS],
  ];
  for (const [args, code, field, named] of cases) {
    it(`baobei ${args.join(' ')} → ${code} (${field})`, async () => {
      const err = await refusal(args);
      expect([err.code, err.field]).toEqual([code, field]);
      for (const name of [field, ...named]) {
        expect(err.message).toContain(name);
        expect(err.messageEn).toContain(name);
      }
    });
  }

  it('a mistyped option is told the one it was probably meant to be, from the options themselves', async () => {
    const err = await refusal(['store', 'rekey', '--forse']);
    expect([err.code, err.field]).toEqual(['cli.option_unknown', '--forse']);
    expect(err.message).toContain('是否想用 --force');
    expect(err.messageEn).toContain('did you mean --force?');
    // With a value attached, the option's name is what is compared.
    const withValue = await refusal(['store', 'copy', '--from', 'lowdb', '--to', 'lowdb', '--to-pg-shema=x']);
    expect([withValue.field, withValue.messageEn]).toEqual([
      '--to-pg-shema=x',
      expect.stringContaining('did you mean --to-pg-schema?'),
    ]);
    // Options of the commands above count too (--version is the program's).
    expect((await refusal(['store', 'rekey', '--versoin'])).messageEn).toContain('did you mean --version?');
    const far = await refusal(['store', 'rekey', '--zzzzzz']);
    expect(far.messageEn).not.toContain('did you mean');
    expect(far.messageEn).toContain('see --help');
    // Not read from commander's English message: without its suggestion there, ours is the same.
    const quiet = await refusal(['store', 'rekey', '--forse'], (program) => {
      for (const command of [program, ...program.commands.flatMap((c) => [c, ...c.commands])])
        command.showSuggestionAfterError(false);
    });
    expect(quiet.messageEn).toContain('did you mean --force?');
  });

  it('a missing value names the option that lacks it, also at the end of a group of short options', async () => {
    // `-vn`: -v a flag, -n wants a value and is the last word's last letter; the word itself is no option.
    const program = new Command('t')
      .option('-v, --verbose', 'talk')
      .option('-n, --name <name>', 'a name')
      .action(() => undefined);
    refuseParseErrors(program);
    const err: unknown = await program.parseAsync(['-vn'], { from: 'user' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    const missing = err as DomainError;
    expect([missing.code, missing.field]).toEqual(['cli.option_value_missing', '--name']);
    expect(missing.message).toContain('-n, --name <name>');
    expect(missing.messageEn).toBe('The option -n, --name <name> needs a value');
  });

  it('--help and --version are not refusals: commander ends them with exit code 0', async () => {
    for (const args of [['--version'], ['help']]) {
      const program = buildProgram().configureOutput({ writeOut: () => undefined });
      refuseParseErrors(program);
      const err: unknown = await program.parseAsync(args, { from: 'user' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommanderError);
      expect((err as CommanderError).exitCode).toBe(0);
    }
  });
});
