/**
 * `platctl teardown <cluster>`: confirms by cluster name, then the runner does the rest — the phases before
 * (cloud load balancers, tenants), every applied step's destroy in reverse order, the orphan report after —
 * each recorded in state and history (src/teardown/phases.ts).
 */
import type { Command } from 'commander';
import { PlatctlError } from '../errors.js';
import { GIT_HOST_STEPS } from '../githost/preflight.js';
import { runTeardown } from '../runner/pipeline.js';
import { summarise } from '../runner/report.js';
import { withSession } from '../runner/session.js';
import { loadSteps } from '../steps-registry.js';
import type { Orphan } from '../teardown/orphans.js';
import { isStanding, ORPHANS_PHASE, PREPARE_PHASE, teardownPhases } from '../teardown/phases.js';
import type { PrepareReport } from '../teardown/prepare.js';
import { formatOrphans, formatPrepare } from '../teardown/report.js';
import { type CommandSetup, printResult, setupCommand } from './common.js';
import { finishRun } from './finish.js';

/** Asks for the cluster's name (unless --yes or --dry-run); without a terminal, says to pass --yes. */
async function confirm(setup: CommandSetup): Promise<void> {
  const name = setup.cluster.name;
  if (setup.flags.dryRun || setup.flags.yes) return;
  if (!setup.base.interactive) {
    throw new PlatctlError(
      'NO_TTY',
      `teardown of ${name} asks you to type the cluster name, and there is no terminal`,
      {
        hint: 'pass --yes to confirm non-interactively (or --dry-run to see what would be removed)',
      },
    );
  }
  const typed = await setup
    .context()
    .prompt.input(`This destroys cluster ${name} and everything platctl made. Type the cluster name to confirm`);
  if (typed !== name) throw new PlatctlError('ABORTED', `teardown aborted: "${typed}" is not "${name}"`);
}

/** Destroys every applied step, last first, and returns the exit code. */
export default async function teardown(clusterName: string, _opts: unknown, cmd: Command) {
  const setup = await setupCommand(clusterName, cmd);
  const steps = await loadSteps();
  return withSession(setup.session('teardown'), async (session) => {
    // Removing the deploy key and webhook needs the git host's token: a missing one stops before anything goes.
    if (GIT_HOST_STEPS.some((id) => isStanding(session.state.steps[id]?.status))) await setup.context().gitHost();
    await confirm(setup);
    const outcome = await runTeardown({ steps, phases: teardownPhases(), session, ...setup.run });
    const { report } = outcome;
    const prepare = outcome.phases[PREPARE_PHASE] as PrepareReport | undefined;
    const orphans = outcome.phases[ORPHANS_PHASE] as Orphan[] | undefined;
    printResult(setup.flags, { ...report, prepare, orphans }, () => [
      ...(prepare ? formatPrepare(prepare) : []),
      ...summarise(report),
      ...(orphans ? formatOrphans(clusterName, orphans) : []),
    ]);
    return finishRun(outcome, setup);
  });
}
