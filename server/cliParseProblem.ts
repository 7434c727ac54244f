/**
 * The command line's own mistakes (an unknown option or command, a missing value, option, argument
 * or subcommand, a value not among the choices, too many arguments) as a Problem: Chinese and
 * English, a stable code, the option or argument named — as every other refusal of the CLI is.
 *
 * Each is read from what commander holds as data — which command refused (every command gets its
 * own exitOverride), that command's options, arguments, subcommands and the words it was given,
 * and a value parser of our own that names its option — not from commander's English messages, so
 * a release that rewords them changes no code and no name. The "did you mean" for a mistyped option
 * is worked out here from the options by commander's rule (its suggestSimilar is not exported), with leven.
 */
import { InvalidArgumentError, type Command, type CommanderError, type Option } from 'commander';
import leven from 'leven';
import { DomainError, problem, type Problem } from '../core/problem.js';

const SEE = ['（用 --help 查看用法）', ' (see --help)'] as const;

/**
 * Makes every parse error of `program` (and of each of its commands) a DomainError carrying its
 * Problem, for `main` to print as one line. `--help` and `--version` still end as commander's
 * CommanderError, exit code 0.
 */
export function refuseParseErrors(program: Command): void {
  for (const command of commandsOf(program)) {
    // Commander's English line and its help printed for a missing subcommand are replaced by the
    // one line main prints; help asked for with --help goes to stdout and stays.
    command.configureOutput({ outputError: () => undefined, writeErr: () => undefined });
    const words = wordsGivenTo(command);
    command.exitOverride((err) => {
      if (err.exitCode === 0) throw err;
      throw new DomainError(parseProblem(command, err, words()));
    });
    for (const option of command.options) nameInvalidValues(option);
  }
}

/**
 * The words commander hands the command to parse its options from (after the commands above took
 * theirs): commander sets `command.args` only once they are parsed, too late for an option whose
 * value is missing.
 */
function wordsGivenTo(command: Command): () => readonly string[] {
  let given: readonly string[] = [];
  const parseOptions = command.parseOptions.bind(command);
  command.parseOptions = (argv) => {
    given = [...argv];
    return parseOptions(argv);
  };
  return () => given;
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

function parseProblem(command: Command, err: CommanderError, words: readonly string[]): Problem {
  switch (err.code) {
    case 'commander.unknownOption': {
      const flag = unknownFlag(command);
      const similar = similarOptions(flag, optionNamesFor(command));
      return problem(
        'cli.option_unknown',
        `未知选项：${flag}${similar.length > 0 ? `（是否想用 ${similar.join(' 或 ')}？）` : SEE[0]}`,
        `Unknown option: ${flag}${similar.length > 0 ? ` (did you mean ${similar.join(' or ')}?)` : SEE[1]}`,
        flag,
      );
    }
    case 'commander.optionMissingArgument': {
      const option = optionLackingValue(command, words);
      if (option === undefined) return usageProblem(err);
      return problem(
        'cli.option_value_missing',
        `选项 ${option.flags} 缺少取值`,
        `The option ${option.flags} needs a value`,
        option.long ?? option.flags,
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

/**
 * The option commander found no value for. It takes the word after the option as its value, so one
 * is missing only when the option ends the command's words: the last word itself (`--name`), or the
 * last letter of a group of short options (`-vn`, -v a flag).
 */
function optionLackingValue(command: Command, words: readonly string[]): Option | undefined {
  const last = words.at(-1);
  if (last === undefined) return undefined;
  const wantsValue = command.options.filter((o) => o.required);
  const named = wantsValue.find((o) => o.long === last || o.short === last);
  if (named !== undefined || !/^-[^-]{2,}$/.test(last)) return named;
  return wantsValue.find((o) => o.short === `-${last.slice(-1)}`);
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

/** More edits than this and a name is no typing slip of another (commander's limit too). */
const MAX_EDITS = 3;

/**
 * The long options `typed` is probably a slip of, by commander's rule: those the fewest edits away
 * (Levenshtein, at most MAX_EDITS; commander counts a swap of two letters as one edit, leven as
 * two), with more than 40% of the longer name kept. A value given with `=` is not
 * part of the name. Short options (`-x`) get no suggestion: one letter is no evidence.
 */
function similarOptions(typed: string, names: readonly string[]): string[] {
  if (!typed.startsWith('--')) return [];
  const word = typed.slice(2).split('=')[0] ?? '';
  let best = MAX_EDITS;
  let similar: string[] = [];
  for (const name of new Set(names)) {
    const candidate = name.slice(2);
    if (candidate.length <= 1) continue;
    const edits = leven(word, candidate, { maxDistance: MAX_EDITS + 1 });
    const longer = Math.max(word.length, candidate.length);
    if ((longer - edits) / longer <= 0.4) continue;
    if (edits < best) [best, similar] = [edits, [name]];
    else if (edits === best) similar.push(name);
  }
  return similar.sort((a, b) => a.localeCompare(b));
}
