/** How a failure reaches the user: one ✗ line, the hint, and the cause chain's stacks only with --debug. */
import { describeError, ExitCode, errorDoc, isPlatctlError } from './errors.js';
import { createLogger } from './log.js';
import { maskSecrets } from './secrets.js';

/**
 * Prints an error the platctl way: one line, a hint ending in the code's docs/errors.md anchor, the cause chain
 * and stack only with --debug. With `alreadyShown` (a step's failure, already printed on its ✗ line) only the
 * hint and the stack follow.
 */
export function reportError(err: unknown, debug: boolean, colour: boolean, alreadyShown = false): number {
  const log = createLogger({ debug, colour });
  if (isPlatctlError(err)) {
    if (!alreadyShown) log.failure(err.message);
    log.info(`hint: ${err.hint ? `${err.hint} (see ${errorDoc(err.code)})` : `see ${errorDoc(err.code)}`}`);
  } else {
    log.failure(`unexpected error: ${describeError(err)}`);
    if (!debug) log.info('hint: re-run with --debug for the stack trace, and please report it');
  }
  if (debug) {
    let cause: unknown = err;
    while (cause) {
      if (cause instanceof Error && cause.stack) process.stderr.write(`${maskSecrets(cause.stack)}\n`);
      cause = cause instanceof Error ? cause.cause : undefined;
      if (cause) process.stderr.write('caused by:\n');
    }
  }
  return isPlatctlError(err) ? err.exitCode : ExitCode.stepFailed;
}
