/**
 * Human log lines on stderr, in flux's verbs: ► action, ✚ created, ◎ waiting, ✔ success, ⚠ warning, ✗ failure.
 * Results go to stdout through printResult (src/commands/common.ts); nothing here ever writes to stdout.
 * Every line passes through the secret masker first.
 */
import { maskSecrets } from './secrets.js';

/** The verbs a log line can carry. */
export type LogVerb = 'action' | 'created' | 'waiting' | 'success' | 'warning' | 'failure' | 'info' | 'debug';

const symbols: Record<LogVerb, string> = {
  action: '►',
  created: '✚',
  waiting: '◎',
  success: '✔',
  warning: '⚠',
  failure: '✗',
  info: ' ',
  debug: '·',
};

const colours: Partial<Record<LogVerb, number>> = { created: 32, success: 32, warning: 33, failure: 31, debug: 90 };

/** The narrow logging interface steps and commands receive. */
export interface Logger {
  action(msg: string): void;
  created(msg: string): void;
  waiting(msg: string): void;
  success(msg: string): void;
  warning(msg: string): void;
  failure(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  debug?: boolean;
  colour?: boolean;
  /** Where lines go; defaults to process.stderr. */
  write?: (line: string) => void;
  /** Suppress everything but warnings and failures (used with --output json). */
  quiet?: boolean;
}

/** True when colour should be used on stderr: a TTY, no NO_COLOR, no --no-color. */
export function wantColour(flag: boolean | undefined): boolean {
  if (flag === false || process.env.NO_COLOR !== undefined) return false;
  return Boolean(process.stderr.isTTY);
}

/** Creates a {@link Logger} writing masked, verb-prefixed lines to stderr. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (verb: LogVerb) => (msg: string) => {
    if (verb === 'debug' && !options.debug) return;
    if (options.quiet && verb !== 'warning' && verb !== 'failure') return;
    const text = `${symbols[verb]} ${maskSecrets(msg)}`;
    const code = colours[verb];
    write(options.colour && code ? `\u001b[${code}m${text}\u001b[0m` : text);
  };
  return loggerOf(emit);
}

/** A {@link Logger} whose every verb goes through `emit(verb)`: how each logger here is made from one function. */
export function loggerOf(emit: (verb: LogVerb) => (msg: string) => void): Logger {
  return {
    action: emit('action'),
    created: emit('created'),
    waiting: emit('waiting'),
    success: emit('success'),
    warning: emit('warning'),
    failure: emit('failure'),
    info: emit('info'),
    debug: emit('debug'),
  };
}
