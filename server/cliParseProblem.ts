/**
 * The command line's own mistakes (an unknown option or command, a missing value, option, argument
 * or subcommand, a value not among the choices, too many arguments) as a Problem: Chinese and
 * English, a stable code, the option or argument named — as every other refusal of the CLI is.
 *
 * Each is read from what commander holds as data — which command refused (every command gets its
 * own exitOverride), that command's options, arguments, subcommands and the words it was given,
 * and a value parser of our own that names its option — not from commander's English messages, so
 * a release that rewords them changes no code and no name. The one thing commander keeps only in
 * its message is the "did you mean" for a mistyped option; that is looked up there by the option
 * names it can be (test/server/cli.test.ts fails if it goes missing).
 */
import { InvalidArgumentError, type Command, type CommanderError, type Option } from 'commander';
import { DomainError, problem, type Problem } from '../core/problem.js';

const SEE = ['（用 --help 查看用法）', ' (see --help)'] as const;

/**
 * Makes every parse error of `program` (and of each of its commands) a DomainError carrying its
 * Problem, for `main` to print as one line. `argv` are the words about to be parsed, as the user
 * gave them. `--help` and `--version` still end as commander's CommanderError, exit code 0.
 */
export function refuseParseErrors(program: Command, argv: readonly string[]): void {
  for (const command of commandsOf(program)) {
    // Commander's English line and its help printed for a missing subcommand are replaced by the
    // one line main prints; help asked for with --help goes to stdout and stays.
    command.configureOutput({ outputError: () => undefined, writeErr: () => undefined });
    command.exitOverride((err) => {
      if (err.exitCode === 0) throw err;
      throw new DomainError(parseProblem(command, err, argv));
    });
    for (const option of command.options) nameInvalidValues(option);
  }
}

/** A command line commander refused for a reason this file does not know (a newer commander). */
export function usageProblem(err: CommanderError): Problem {
  const text = err.message.replace(/^error: /, '');
  return problem('cli.usage', `命令行有误：${text}`, `Invalid command line: ${text}`);
}

function commandsOf(command: Command): Command[] {
  return [command, ...command.commands.flatMap(commandsOf)];
}

function ancestorsOf(command: Command): Command[] {
  return command.parent === null ? [command] : [command, ...ancestorsOf(command.parent)];
}

/** `baobei store copy`: the command as typed. */
function pathOf(command: Command): string {
  return ancestorsOf(command)
    .reverse()
    .map((c) => c.name())
    .join(' ');
}

/**
 * The option's value parser (commander's, for choices) refusing with our Problem: commander would
 * wrap its refusal in an English sentence, the option named only in its text.
 */
function nameInvalidValues(option: Option): void {
  const parse = option.parseArg;
  if (parse === undefined) return;
  option.argParser((value: string, previous: unknown) => {
    try {
      return parse(value, previous);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new DomainError(optionInvalid(option, value));
      throw err;
    }
  });
}

function optionInvalid(option: Option, value: string): Problem {
  const name = option.long ?? option.flags;
  const choices = option.argChoices?.join(', ');
  const [zh, en] = choices === undefined ? ['', ''] : [`（可选：${choices}）`, ` (one of: ${choices})`];
  return problem(
    'cli.option_invalid',
    `${name} 的取值无效：${value}${zh}`,
    `Invalid value for ${name}: ${value}${en}`,
    name,
  );
}

function parseProblem(command: Command, err: CommanderError, argv: readonly string[]): Problem {
  switch (err.code) {
    case 'commander.unknownOption': {
      const flag = unknownFlag(command);
      const suggested = suggestionIn(err.message, flag, optionNamesFor(command));
      return problem(
        'cli.option_unknown',
        `未知选项：${flag}${suggested !== undefined ? `（是否想用 ${suggested}？）` : SEE[0]}`,
        `Unknown option: ${flag}${suggested !== undefined ? ` (did you mean ${suggested}?)` : SEE[1]}`,
        flag,
      );
    }
    case 'commander.optionMissingArgument': {
      // A value is missing only when the option is the last word: nothing followed it.
      const last = argv.at(-1) ?? '';
      const option = command.options.find((o) => o.long === last || o.short === last);
      const flags = option?.flags ?? last;
      return problem(
        'cli.option_value_missing',
        `选项 ${flags} 缺少取值`,
        `The option ${flags} needs a value`,
        option?.long ?? last,
      );
    }
    case 'commander.missingMandatoryOptionValue': {
      // Raised by the command that owns the option, for the first one without a value.
      const option = command.options.find(
        (o) => o.mandatory && command.getOptionValue(o.attributeName()) === undefined,
      );
      if (option === undefined) return usageProblem(err);
      return problem(
        'cli.option_required',
        `缺少必需的选项 ${option.flags}`,
        `The option ${option.flags} is required`,
        option.long ?? option.flags,
      );
    }
    case 'commander.missingArgument': {
      const argument = command.registeredArguments.find((a, i) => a.required && command.args[i] == null);
      if (argument === undefined) return usageProblem(err);
      return problem(
        'cli.argument_missing',
        `缺少参数 <${argument.name()}>${SEE[0]}`,
        `The argument <${argument.name()}> is missing${SEE[1]}`,
        argument.name(),
      );
    }
    case 'commander.excessArguments': {
      const where = pathOf(command);
      const expected = command.registeredArguments.length;
      const got = command.args.length;
      return problem(
        'cli.too_many_arguments',
        `${where} 的参数过多：应为 ${expected} 个，收到 ${got} 个${SEE[0]}`,
        `Too many arguments for ${where}: ${expected} expected, ${got} given${SEE[1]}`,
        where,
      );
    }
    case 'commander.unknownCommand':
      return commandUnknown(command, command.args[0] ?? '');
    case 'commander.help': {
      // Help as an error: the command has subcommands and none was named (`baobei store`), or
      // `baobei help NAME` named none of them.
      const words = command.args.filter((a) => !a.startsWith('-'));
      const named = words.at(-1);
      return named === undefined ? commandMissing(command) : commandUnknown(command, named);
    }
    default:
      return usageProblem(err);
  }
}

function subcommandList(command: Command): string {
  return command.commands.map((c) => c.name()).join(', ');
}

function commandUnknown(command: Command, name: string): Problem {
  const list = subcommandList(command);
  return problem(
    'cli.command_unknown',
    `未知命令：${pathOf(command)} ${name}（可用：${list}）`,
    `Unknown command: ${pathOf(command)} ${name} (one of: ${list})`,
    name,
  );
}

function commandMissing(command: Command): Problem {
  const where = pathOf(command);
  const list = subcommandList(command);
  return problem(
    'cli.command_missing',
    `${where} 后须跟一个子命令：${list}${SEE[0]}`,
    `${where} needs a subcommand: ${list}${SEE[1]}`,
    where,
  );
}

/**
 * The word commander did not know: the first of the command's words that is an option (not a
 * negative number) and none of the options of the command or the ones above it.
 */
function unknownFlag(command: Command): string {
  const known = new Set(ancestorsOf(command).flatMap((c) => c.options.flatMap((o) => [o.long, o.short])));
  const isFlag = (word: string) => word.startsWith('-') && word !== '--' && !/^-\d/.test(word);
  return command.args.find((w) => isFlag(w) && !known.has(w)) ?? command.args.find(isFlag) ?? '';
}

/** The long options commander suggests from: the visible ones of the command and those above it. */
function optionNamesFor(command: Command): string[] {
  return ancestorsOf(command).flatMap((c) =>
    c
      .createHelp()
      .visibleOptions(c)
      .flatMap((o) => (o.long !== undefined ? [o.long] : [])),
  );
}

/** Which of `names` commander's message suggests, the typed word itself left out. */
function suggestionIn(message: string, typed: string, names: readonly string[]): string | undefined {
  const rest = typed === '' ? message : message.split(typed).join(' ');
  const escaped = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return names.find((name) => new RegExp(`(?<![\\w-])${escaped(name)}(?![\\w-])`).test(rest));
}
