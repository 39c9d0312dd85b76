/** `platctl bootstrap <cluster>`: thin; the runner and the steps do the work. */
import type { Command } from 'commander';
import { readFluxSecretOutputs } from '../../steps/flux-secret.js';
import { GIT_HOST_STEPS, gitHostPreflight } from '../githost/preflight.js';
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
  // Everything checkable locally, before anything exists (also with --dry-run): every problem at once, exit 2.
  const { assertPreflight } = await import('../preflight/preflight.js');
  const { exec, aws } = setup.base.clients;
  const started = Date.now();
  await assertPreflight(
    {
      cluster: setup.cluster,
      index: setup.index,
      steps: steps.map((s) => s.id),
      exec,
      aws,
      kubeFlags: { kubeconfig: setup.flags.kubeconfig, context: setup.flags.context },
    },
    setup.flags.config,
  );
  setup.log.debug(`preflight passed in ${Date.now() - started} ms`);
  return withSession(setup.session('bootstrap'), async (session) => {
    // Before the first step: a missing or powerless git host token must not leave half a platform behind. The
    // API is asked only while the git host's steps have work to do (a finished cluster's re-run stays cheap).
    const { state } = session;
    if (steps.some((s) => GIT_HOST_STEPS.includes(s.id))) {
      const pending = steps.some((s) => GIT_HOST_STEPS.includes(s.id) && state.steps[s.id]?.status !== 'done');
      const moved =
        readFluxSecretOutputs.of(state.steps['flux-secret']?.outputs).provider !== setup.cluster.fleet.provider;
      await gitHostPreflight(setup.cluster, setup.base.clients.gitHost, setup.log, {
        probe: pending || moved || Boolean(setup.flags.verify),
      });
    }
    const outcome = await runBootstrap({ steps, session, verify: setup.flags.verify, ...setup.run });
    printResult(setup.flags, outcome.report, () => summarise(outcome.report));
    return finishRun(outcome, setup);
  });
}
