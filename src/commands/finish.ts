/** Turns a finished run into the exit code, printing the failure the platctl way. */
import { ExitCode } from '../errors.js';
import { reportError } from '../report-error.js';
import type { RunOutcome } from '../runner/pipeline.js';
import type { CommandSetup } from './common.js';

/** 0 when every step went well; otherwise prints the first error's hint and returns its exit code (1, 2 or 3). */
export function finishRun(outcome: RunOutcome, setup: Pick<CommandSetup, 'flags' | 'colour'>): number {
  if (outcome.report.ok) return ExitCode.ok;
  // The failing step's ✗ line already carries the message (non-TTY lines, or the task list on a TTY).
  const { failure } = outcome;
  return reportError(
    failure ?? new Error('a step failed'),
    Boolean(setup.flags.debug),
    setup.colour,
    failure !== undefined,
  );
}
