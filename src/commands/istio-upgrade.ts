/**
 * `platctl istio upgrade <cluster> --version X [--tag T] [--rollback] [--finish]`: a canary upgrade of the
 * control plane. Plain: install revision X beside the configured one. --tag T: move tag T to X. --rollback:
 * move the tag (or every tag) back, and without --tag remove the canary. --finish: remove the old revision
 * once no namespace points at it. The "old" revision is always the one platform.yaml names; after --finish,
 * set istio.version to X. The work runs under the run lock as a phase the runner records (state.phases and
 * history, like a step). See docs/commands/istio-upgrade.md.
 */
import type { Command } from 'commander';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { installCanary, moveTag, type Revision, removeRevision, servedBy } from '../istio/canary.js';
import { handoverSteps, suspendIstioHelmReleases } from '../istio/flux-handover.js';
import { configRevision, revisionName } from '../istio/revision.js';
import { readTags } from '../istio/tags.js';
import type { Phase } from '../runner/phase.js';
import { runPhases } from '../runner/pipeline.js';
import { withSession } from '../runner/session.js';
import { helmFor } from '../tools/helm.js';
import { printResult, setupCommand } from './common.js';
import { finishRun } from './finish.js';

/** The command's flags. */
export interface IstioUpgradeOptions {
  version: string;
  tag?: string;
  rollback?: boolean;
  finish?: boolean;
  config: string;
  yes?: boolean;
  breakLock?: boolean;
}

/** The phase id in state and history. */
export const ISTIO_UPGRADE_PHASE = 'istio-upgrade';

/** What the upgrade reports (stdout, or JSON). */
export interface IstioUpgradeReport {
  cluster: string;
  from: Revision;
  to: Revision;
  tags: { tag: string; revision: string | null }[];
  servedBy: Record<string, string[]>;
  fluxSuspended: string[];
}

const actionOf = (o: IstioUpgradeOptions) =>
  o.finish ? 'finish' : o.rollback ? `rollback${o.tag ? ` ${o.tag}` : ''}` : `install${o.tag ? `, tag ${o.tag}` : ''}`;

/** The upgrade as a phase: suspend Flux's Istio releases, do the action, read back tags and served namespaces. */
function upgradePhase(c: ClusterConfig, opts: IstioUpgradeOptions, current: Revision, next: Revision): Phase {
  const tags = c.istio.tags;
  return {
    id: ISTIO_UPGRADE_PHASE,
    title: `Istio ${current.revision} → ${next.revision}: ${actionOf(opts)}`,
    async run(ctx) {
      const helm = helmFor(ctx);
      const kube = await ctx.kube();
      // Flux may manage these releases (the flux step adopted them): it must not undo what follows.
      const suspended = await suspendIstioHelmReleases(kube, ctx.log);
      if (opts.finish) {
        await removeRevision(ctx, helm, current, next);
        ctx.log.info(
          `next: set istio.version: ${next.version} in ${opts.config}, then run platctl bootstrap ${c.name}`,
        );
      } else if (opts.rollback) {
        for (const tag of opts.tag ? [opts.tag] : tags) await moveTag(ctx, helm, tag, next, current);
        if (!opts.tag) await removeRevision(ctx, helm, next, current);
      } else {
        await installCanary(ctx, helm, current, next);
        if (opts.tag) {
          const ok = await ctx.prompt.confirm(
            `move tag ${opts.tag} to revision ${next.revision}? New pods in its namespaces get Istio ${next.version}`,
          );
          if (!ok) throw new PlatctlError('ABORTED', `tag ${opts.tag} not moved`);
          await moveTag(ctx, helm, opts.tag, current, next);
        }
      }
      const tagMap = await readTags(kube);
      const report: IstioUpgradeReport = {
        cluster: c.name,
        from: current,
        to: next,
        tags: tags.map((t) => ({ tag: t, revision: tagMap.get(t)?.revision ?? null })),
        servedBy: {
          [current.revision]: (await servedBy(ctx, current.revision)).namespaces,
          [next.revision]: (await servedBy(ctx, next.revision)).namespaces,
        },
        fluxSuspended: suspended,
      };
      if (suspended.length > 0) for (const line of handoverSteps(c, suspended, next.version)) ctx.log.warning(line);
      const detail = report.tags.map((t) => `${t.tag} → ${t.revision ?? '(none)'}`).join(', ') || 'no tags';
      const outputs = { from: current.revision, to: next.revision, action: actionOf(opts) };
      return { detail, data: report, outputs };
    },
  };
}

/** Runs the canary upgrade action the flags ask for. */
export default async function istioUpgrade(cluster: string, opts: IstioUpgradeOptions, cmd: Command): Promise<number> {
  if (opts.rollback && opts.finish) throw new PlatctlError('USAGE', '--rollback and --finish cannot be combined');
  const setup = await setupCommand(cluster, cmd);
  const current: Revision = { revision: configRevision(setup.cluster), version: setup.cluster.istio.version };
  const next: Revision = { revision: revisionName(opts.version), version: opts.version };
  if (next.revision === current.revision) {
    throw new PlatctlError(
      'USAGE',
      `platform.yaml already asks for Istio ${current.version} (revision ${current.revision})`,
      {
        hint: 'pass the version to upgrade to; after --finish, set istio.version in platform.yaml to it',
      },
    );
  }
  const tags = setup.cluster.istio.tags;
  if (opts.tag && !tags.includes(opts.tag)) {
    throw new PlatctlError('USAGE', `tag ${opts.tag} is not in istio.tags (${tags.join(', ') || 'none'})`);
  }
  // The run lock: nobody bootstraps or upgrades this cluster meanwhile.
  return withSession(setup.session('istio upgrade', true), async (session) => {
    const phases = [upgradePhase(setup.cluster, opts, current, next)];
    const outcome = await runPhases('istio upgrade', { phases, session, ...setup.run });
    const report = outcome.phases[ISTIO_UPGRADE_PHASE] as IstioUpgradeReport | undefined;
    if (report) {
      printResult(setup.flags, report, () => [
        ...report.tags.map((t) => `tag ${t.tag} → ${t.revision ?? '(none)'}`),
        ...Object.entries(report.servedBy).map(
          ([rev, ns]) => `revision ${rev} serves: ${ns.join(', ') || '(no namespace)'}`,
        ),
      ]);
    }
    return finishRun(outcome, setup);
  });
}
