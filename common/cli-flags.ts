/**
 * What the command lines of llmroute-sidecar, llmroute-operator and
 * llmroute-inject share: reading `--flag value` and `--flag=value` by a
 * table of flags, --help and --version, and the checks of the values they
 * take. Pure; a bad command line is a UsageError (exit code 2).
 */
import { LlmrouteError } from './errors.ts';
import { isLogLevel, type LogLevel } from './log.ts';

/** The command line cannot be understood (exit code 2). */
export class UsageError extends LlmrouteError<'usage'> {
  constructor(message: string) {
    super('usage', message);
  }
}

/**
 * Calls `handle` once per flag, in order. `value()` takes the flag's value:
 * the part after `=`, else the next argument (which must not be a flag).
 * `inline` is the part after `=` when there was one, for boolean flags.
 */
export function forEachFlag(argv: readonly string[], handle: (flag: string, value: () => string, inline: string | undefined) => void): void {
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i]!;
    let inline: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq !== -1) {
      inline = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    const value = (): string => {
      if (inline !== undefined) {
        if (inline === '') throw new UsageError(`${flag} needs a value`);
        return inline;
      }
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    handle(flag, value, inline);
  }
}

/** What a flag does with its value; `inline` is the part after `=` when there was one (for boolean flags). */
export type FlagHandler<A> = (out: A, value: () => string, inline: string | undefined, flag: string) => void;

/**
 * Reads argv by a table of flags. `--help`/`-h` and `--version` are every
 * command's and need no entry; any other argument that is not in the table
 * is a UsageError. Returns `out`, filled in.
 */
export function parseFlags<A extends { help: boolean; version: boolean }>(argv: readonly string[], flags: Readonly<Record<string, FlagHandler<A>>>, out: A): A {
  forEachFlag(argv, (flag, value, inline) => {
    if (flag === '--help' || flag === '-h') out.help = true;
    else if (flag === '--version') out.version = true;
    else if (Object.hasOwn(flags, flag)) flags[flag]!(out, value, inline, flag);
    else throw new UsageError(`unknown argument '${flag}'`);
  });
  return out;
}

export function parsePort(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`${flag} must be a port number from 0 to 65535, not '${v}'`);
  return n;
}

export function parseLogLevel(flag: string, v: string): LogLevel {
  if (!isLogLevel(v)) throw new UsageError(`${flag} must be debug, info, warn or error, not '${v}'`);
  return v;
}

/** The exit code of a command line that cannot be understood. */
export const EXIT_USAGE = 2;

/**
 * The start every llmroute command shares: parse the command line; on a
 * UsageError print it with the usage to stderr, on --help the usage, on
 * --version the version. Returns the arguments to run with, or the exit code
 * when there is nothing more to do.
 */
export function commandLine<A extends { help: boolean; version: boolean }>(
  name: string,
  usage: string,
  parse: () => A,
  version: () => string,
): { args: A } | { exit: number } {
  let args: A;
  try {
    args = parse();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${name}: ${err.message}\n\n${usage}`);
      return { exit: EXIT_USAGE };
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(usage);
    return { exit: 0 };
  }
  if (args.version) {
    process.stdout.write(`${version()}\n`);
    return { exit: 0 };
  }
  return { args };
}
