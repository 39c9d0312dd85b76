/**
 * `platctl istio upgrade <cluster> --version X [--tag T] [--rollback] [--finish]`: a canary upgrade of the
 * control plane. Plain: install revision X beside the configured one. --tag T: move tag T to X. --rollback:
 * move the tag (or every tag) back, and without --tag remove the canary. --finish: remove the old revision
 * once no namespace points at it. The "old" revision is always the one platform.yaml names; after --finish,
 * set istio.version to X. See docs/commands/istio-upgrade.md.
 */
import type { Command } from 'commander';
import { ExitCode, PlatctlError } from '../errors.js';
import { installCanary, moveTag, type Revision, removeRevision, servedBy } from '../istio/canary.js';
import { handoverSteps, suspendIstioHelmReleases } from '../istio/flux-handover.js';
import { configRevision, revisionName } from '../istio/revision.js';
import { readTags } from '../istio/tags.js';
import { withSession } from '../runner/session.js';
import { helmFor } from '../tools/helm.js';
import { printResult, setupCommand } from './common.js';

/** The command's flags. */
export interface IstioUpgradeOptions {
  version: string;
  tag?: string;
  rollback?: boolean;
  finish?: boolean;
  config: string;
  yes?: boolean;
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
    const ctx = setup.context({ outputs: (id) => session.state.steps[id]?.outputs ?? {} });
    const helm = helmFor(ctx);
    const kube = await ctx.kube();
    // Flux may manage these releases (the flux step adopted them): it must not undo what follows.
    const suspended = await suspendIstioHelmReleases(kube, setup.log);
    if (opts.finish) {
      await removeRevision(ctx, helm, current, next);
      setup.log.info(
        `next: set istio.version: ${next.version} in ${opts.config}, then run platctl bootstrap ${cluster}`,
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
    const report = {
      cluster,
      from: current,
      to: next,
      tags: tags.map((t) => ({ tag: t, revision: tagMap.get(t)?.revision ?? null })),
      servedBy: {
        [current.revision]: (await servedBy(ctx, current.revision)).namespaces,
        [next.revision]: (await servedBy(ctx, next.revision)).namespaces,
      },
      fluxSuspended: suspended,
    };
    if (suspended.length > 0)
      for (const line of handoverSteps(setup.cluster, suspended, next.version)) setup.log.warning(line);
    printResult(setup.flags, report, () => [
      ...report.tags.map((t) => `tag ${t.tag} → ${t.revision ?? '(none)'}`),
      ...Object.entries(report.servedBy).map(
        ([rev, ns]) => `revision ${rev} serves: ${ns.join(', ') || '(no namespace)'}`,
      ),
    ]);
    return ExitCode.ok;
  });
}
