/** Turns a finished run report into the exit code, printing the failure the platctl way. */
import { ExitCode } from '../errors.js';
import { reportError } from '../report-error.js';
import type { RunReport } from '../runner/report.js';
import type { CommandSetup } from './common.js';

/** 0 when every step went well; otherwise prints the first error and returns its exit code (1, 2 or 3). */
export function finishRun(report: RunReport, setup: Pick<CommandSetup, 'flags' | 'colour'>): number {
  if (report.ok) return ExitCode.ok;
  const cause = (report as RunReport & { cause?: unknown }).cause;
  // The failing step's ✗ line already carries the message (non-TTY lines, or the task list on a TTY).
  return reportError(
    cause ?? new Error('a step failed'),
    Boolean(setup.flags.debug),
    setup.colour,
    cause !== undefined,
  );
}
