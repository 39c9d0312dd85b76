/** `platctl bootstrap <cluster>`: thin; the runner and the steps do the work. */
import type { Command } from 'commander';
import { runBootstrap } from '../runner/pipeline.js';
import { summarise } from '../runner/report.js';
import { selectSteps } from '../runner/select.js';
import { withSession } from '../runner/session.js';
import { loadSteps } from '../steps-registry.js';
import { printResult, setupCommand } from './common.js';
import { finishRun } from './finish.js';

/** Runs the selected steps and returns the exit code. */
export default async function bootstrap(clusterName: string, opts: { from?: string; only?: string }, cmd: Command) {
  const setup = await setupCommand(clusterName, cmd);
  const steps = selectSteps(await loadSteps(), opts);
  return withSession(setup.session('bootstrap'), async (session) => {
    const outcome = await runBootstrap({ steps, session, verify: setup.flags.verify, ...setup.run });
    printResult(setup.flags, outcome.report, () => summarise(outcome.report));
    return finishRun(outcome, setup);
  });
}
