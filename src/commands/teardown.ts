/** `platctl teardown <cluster>`: confirms by cluster name, then destroys in reverse order. */
import type { Command } from 'commander';
import type { KubeClient } from '../clients/kube.js';
import { PlatctlError } from '../errors.js';
import { GIT_HOST_STEPS } from '../githost/preflight.js';
import type { Logger } from '../log.js';
import { reportError } from '../report-error.js';
import { runTeardown } from '../runner/pipeline.js';
import { summarise } from '../runner/report.js';
import { withSession } from '../runner/session.js';
import type { State } from '../state/types.js';
import { loadSteps } from '../steps-registry.js';
import { type Orphan, orphanReport } from '../teardown/orphans.js';
import { type PrepareReport, prepareTeardown } from '../teardown/prepare.js';
import { formatOrphans, formatPrepare } from '../teardown/report.js';
import { planLive, runPlan } from '../tenants/live.js';
import { tenantRecords } from '../tenants/records.js';
import { printResult, setupCommand } from './common.js';
import { finishRun } from './finish.js';

/**
 * Tenants go before the steps (their Flux objects and namespaces need Flux's CRDs and the cluster), deleted
 * Flux objects first and waited for. Their fleet files stay: the fleet repo is the record of intent.
 */
async function removeTenants(
  state: State,
  base: { kube: () => Promise<KubeClient>; dryRun: boolean },
  log: Logger,
  forget: () => Promise<unknown>,
) {
  const names = Object.keys(tenantRecords(state));
  if (names.length === 0) return;
  if (base.dryRun) {
    log.info(`would remove tenants: ${names.join(', ')}`);
    return;
  }
  log.action(`removing tenants ${names.join(', ')} (Flux objects first, then namespaces)`);
  const kube = await base.kube();
  await runPlan(kube, await planLive(kube, names, []));
  await forget();
  log.success(`tenants ${names.join(', ')} removed`);
}

/** Step states in which the cluster (and the controllers that delete load balancers) may still be there. */
const STANDING = new Set(['done', 'failed', 'running', 'destroying']);

/** Destroys every applied step, last first, and returns the exit code. */
export default async function teardown(clusterName: string, _opts: unknown, cmd: Command) {
  const setup = await setupCommand(clusterName, cmd);
  const steps = await loadSteps();
  return withSession(setup.session('teardown'), async (session) => {
    const { state } = session;
    const ctx = setup.context({ outputs: (id) => session.state.steps[id]?.outputs ?? {} });
    // Removing the deploy key and webhook needs the git host's token: a missing one stops before anything goes.
    if (GIT_HOST_STEPS.some((id) => STANDING.has(state.steps[id]?.status ?? 'pending'))) await ctx.gitHost();
    if (!setup.flags.dryRun && !setup.flags.yes) {
      if (!setup.base.interactive) {
        throw new PlatctlError(
          'NO_TTY',
          `teardown of ${clusterName} asks you to type the cluster name, and there is no terminal`,
          {
            hint: 'pass --yes to confirm non-interactively (or --dry-run to see what would be removed)',
          },
        );
      }
      const typed = await ctx.prompt.input(
        `This destroys cluster ${clusterName} and everything platctl made. Type the cluster name to confirm`,
      );
      if (typed !== clusterName)
        throw new PlatctlError('ABORTED', `teardown aborted: "${typed}" is not "${clusterName}"`);
    }
    // Cloud resources Kubernetes made go first, while the cluster and its controllers still run
    // (docs/commands/teardown-safety.md). Skipped once the cluster step is destroyed; a dry run only lists.
    let prepared: PrepareReport | undefined;
    if (STANDING.has(state.steps.cluster?.status ?? 'pending')) {
      prepared = await prepareTeardown({ ...ctx, progress: (m) => setup.log.waiting(m) });
    }
    await removeTenants(state, ctx, setup.log, () =>
      session.update((s) => {
        delete s.records.tenants;
      }),
    );
    const outcome = await runTeardown({ steps, session, ...setup.run });
    const { report } = outcome;
    // Always, also when a killed teardown resumes after the cluster step is gone: the report is the proof.
    const orphans: Orphan[] | undefined =
      report.ok && !setup.flags.dryRun ? await orphanReport(ctx.aws, clusterName) : undefined;
    printResult(setup.flags, { ...report, prepare: prepared, orphans }, () => [
      ...(prepared ? formatPrepare(prepared) : []),
      ...summarise(report),
      ...(orphans ? formatOrphans(clusterName, orphans) : []),
    ]);
    if (orphans && orphans.length > 0) {
      return reportError(
        new PlatctlError(
          'STEP_FAILED',
          `teardown of ${clusterName} left ${orphans.length} AWS resource(s) tagged platctl.io/cluster=${clusterName}: ${orphans.map((o) => o.arn).join(', ')}`,
          { hint: 'delete them by hand (the tagging API can lag behind a deletion: run teardown again to re-check)' },
        ),
        Boolean(setup.flags.debug),
        setup.colour,
      );
    }
    return finishRun(outcome, setup);
  });
}
