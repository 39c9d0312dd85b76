/** `platctl bootstrap <cluster>`: thin; the runner and the steps do the work. */
import path from 'node:path';
import type { Command } from 'commander';
import { readFluxSecretOutputs } from '../../steps/flux-secret.js';
import { gitHostHasWork } from '../githost/preflight.js';
import { platctlHome } from '../paths.js';
import { runBootstrap } from '../runner/pipeline.js';
import { summarise } from '../runner/report.js';
import { selectSteps } from '../runner/select.js';
import { loadSteps } from '../steps-registry.js';
import { printResult, setupCommand } from './common.js';
import { finishRun } from './finish.js';

/** Runs the selected steps and returns the exit code. */
export default async function bootstrap(clusterName: string, opts: { from?: string; only?: string }, cmd: Command) {
  const setup = await setupCommand(clusterName, cmd);
  const steps = selectSteps(await loadSteps(), opts);
  const ids = steps.map((s) => s.id);
  const { withPreflightedSession } = await import('../preflight/session.js');
  const { exec, aws, gitHost } = setup.base.clients;
  const started = Date.now();
  // Before step 1 (also with --dry-run): every problem at once, exit 2. The git host is asked only while its
  // steps have work (a finished cluster's re-run makes no host request), which state says: the session opens first.
  const { preflightMemo } = await import('../preflight/memo.js');
  const preflight = {
    source: setup.flags.config,
    cluster: setup.cluster,
    index: setup.index,
    steps: ids,
    exec,
    aws,
    kubeFlags: { kubeconfig: setup.flags.kubeconfig, context: setup.flags.context },
    // Tools and keys proved by an earlier run are not probed again while unchanged; --verify re-proves all.
    memo: setup.flags.verify ? undefined : preflightMemo(path.join(platctlHome(), 'preflight-memo.json')),
    gitHost: {
      host: gitHost,
      log: setup.log,
      hasWork: (state: Parameters<typeof gitHostHasWork>[0]['state']) =>
        gitHostHasWork({
          steps: ids,
          state,
          provider: setup.cluster.fleet.provider,
          recordedProvider: readFluxSecretOutputs.of(state.steps['flux-secret']?.outputs).provider,
          verify: setup.flags.verify,
        }),
    },
  };
  return withPreflightedSession(setup.session('bootstrap'), preflight, async (session) => {
    setup.log.debug(`session and preflight in ${Date.now() - started} ms`);
    const outcome = await runBootstrap({ steps, session, verify: setup.flags.verify, ...setup.run });
    printResult(setup.flags, outcome.report, () => summarise(outcome.report));
    return finishRun(outcome, setup);
  });
}
