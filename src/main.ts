/**
 * Entry point: parse argv, run the command, map errors to exit codes. Commands are imported only when chosen,
 * so `platctl --help` loads neither the Kubernetes client nor the AWS SDK.
 */
import { describeError, ExitCode, isPlatctlError } from './errors.js';
import { createLogger, wantColour } from './log.js';
import { maskSecrets, registerEnvironmentSecrets } from './secrets.js';

/**
 * Prints an error the platctl way: one line, a hint, the cause chain and stack only with --debug. With
 * `alreadyShown` (a step's failure, already printed on its ✗ line) only the hint and the stack follow.
 */
export function reportError(err: unknown, debug: boolean, colour: boolean, alreadyShown = false): number {
  const log = createLogger({ debug, colour });
  if (isPlatctlError(err)) {
    if (!alreadyShown) log.failure(err.message);
    if (err.hint) log.info(`hint: ${err.hint}`);
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

/** Runs the CLI and exits the process with the right code. */
export async function main(argv: string[]): Promise<void> {
  registerEnvironmentSecrets();
  const debug = argv.includes('--debug');
  // Stack traces (only with --debug) point at the TypeScript sources, not at the bundle's chunks.
  if (debug) process.setSourceMapsEnabled(true);
  const colour = wantColour(argv.includes('--no-color') ? false : undefined);
  let code: number;
  try {
    const { buildProgram } = await import('./cli.js');
    code = await buildProgram().run(argv);
  } catch (err) {
    code = reportError(err, debug, colour);
  }
  process.exitCode = code;
}
