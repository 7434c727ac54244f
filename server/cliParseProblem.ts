/**
 * The command line's own mistakes (an unknown option, a missing value, a value not among the
 * choices…) as a Problem: Chinese and English, a stable code, the option or argument named — as
 * every other refusal of the CLI is. Commander reports them only as English text, with its own
 * code; the names it quotes ('--role <role>', 'boss') are taken from that text.
 */
import type { CommanderError } from 'commander';
import { problem, type Problem } from '../core/problem.js';

/** The single-quoted names in commander's message, in order: `option '--role <role>' argument 'boss'`. */
function quoted(message: string): string[] {
  return [...message.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
}

/** `--role <role>` → `--role`: the field is the option as typed. */
function flagOf(flags: string): string {
  return flags.split(/[ ,]/)[0] ?? flags;
}

export function parseProblem(err: CommanderError): Problem {
  const names = quoted(err.message);
  const [first = '', second = ''] = names;
  const see = ['（用 --help 查看用法）', ' (see --help)'] as const;
  switch (err.code) {
    case 'commander.unknownOption': {
      const suggested = /Did you mean (\S+)\?/.exec(err.message)?.[1];
      return problem(
        'cli.option_unknown',
        `未知选项：${first}${suggested !== undefined ? `（是否想用 ${suggested}？）` : see[0]}`,
        `Unknown option: ${first}${suggested !== undefined ? ` (did you mean ${suggested}?)` : see[1]}`,
        first,
      );
    }
    case 'commander.optionMissingArgument':
      return problem(
        'cli.option_value_missing',
        `选项 ${first} 缺少取值`,
        `The option ${first} needs a value`,
        flagOf(first),
      );
    case 'commander.missingMandatoryOptionValue':
      return problem(
        'cli.option_required',
        `缺少必需的选项 ${first}`,
        `The option ${first} is required`,
        flagOf(first),
      );
    case 'commander.invalidArgument': {
      const choices = /Allowed choices are (.*)\.\s*$/.exec(err.message)?.[1];
      // `option '--role <role>' argument 'boss'`, or for a positional `value 'x' … argument 'year'`.
      const [option, value] = err.message.includes('error: option') ? [first, second] : [second, first];
      return problem(
        'cli.option_invalid',
        `${option} 的取值无效：${value}${choices !== undefined ? `（可选：${choices}）` : ''}`,
        `Invalid value for ${option}: ${value}${choices !== undefined ? ` (one of: ${choices})` : ''}`,
        flagOf(option),
      );
    }
    case 'commander.missingArgument':
      return problem(
        'cli.argument_missing',
        `缺少参数 <${first}>${see[0]}`,
        `The argument <${first}> is missing${see[1]}`,
        first,
      );
    case 'commander.excessArguments': {
      const command = /for '([^']*)'/.exec(err.message)?.[1] ?? 'baobei';
      const [, expected = '?', got = '?'] = /Expected (\d+) arguments? but got (\d+)/.exec(err.message) ?? [];
      return problem(
        'cli.too_many_arguments',
        `${command} 的参数过多：应为 ${expected} 个，收到 ${got} 个${see[0]}`,
        `Too many arguments for ${command}: ${expected} expected, ${got} given${see[1]}`,
        command,
      );
    }
    case 'commander.unknownCommand':
      return problem(
        'cli.command_unknown',
        `未知命令：${first}${see[0]}`,
        `Unknown command: ${first}${see[1]}`,
        first,
      );
    default:
      // A kind this file does not know yet (a newer commander): still one coded, two-language line.
      return problem(
        'cli.usage',
        `命令行有误：${err.message.replace(/^error: /, '')}`,
        `Invalid command line: ${err.message.replace(/^error: /, '')}`,
      );
  }
}
