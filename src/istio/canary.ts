/**
 * Canary upgrades of the control plane: a new revision is installed beside the old one, tags move between
 * them (and back), and the old revision is removed once nothing points at it. Used by `platctl istio
 * upgrade`; see docs/commands/istio-upgrade.md.
 */
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import type { StepContext } from '../step.js';
import type { Helm } from '../tools/helm.js';
import { ensureRelease } from '../tools/helm-ensure.js';
import { namespacesPointingAt } from './namespaces.js';
import { ISTIO_NAMESPACE, istiodRelease } from './revision.js';
import { handOver, heldTags, readTag, readTags, releaseKeep } from './tags.js';
import { baseSpec, istiodSpec } from './values.js';

/** One control-plane revision: its name and the Istio version (chart version) it runs. */
export interface Revision {
  revision: string;
  version: string;
}

/** What the istio helpers need from a context. */
export type IstioCtx = Pick<StepContext, 'cluster' | 'log' | 'kube' | 'prompt' | 'dryRun'>;

/** Tags in config order first, then any others, without duplicates. */
export function orderTags(cluster: ClusterConfig, tags: readonly string[]): string[] {
  const set = new Set(tags);
  const first = cluster.istio.tags.filter((t) => set.has(t));
  return [...first, ...[...set].filter((t) => !cluster.istio.tags.includes(t)).sort()];
}

/**
 * Installs (or refreshes) revision `next` beside `current`. istio-base moves to the new chart first (Istio's
 * CRDs are backward compatible; the new istiod needs the new ones) but keeps defaultRevision on `current`.
 * Tags the new revision already holds (a re-run after --tag) are kept.
 */
export async function installCanary(ctx: IstioCtx, helm: Helm, current: Revision, next: Revision): Promise<void> {
  const have = await helm.status(istiodRelease(current.revision), ISTIO_NAMESPACE);
  if (!have) {
    throw new PlatctlError('USAGE', `${istiodRelease(current.revision)} is not installed: nothing to upgrade from`, {
      hint: `run \`platctl bootstrap ${ctx.cluster.name}\` first (platform.yaml asks for Istio ${current.version})`,
    });
  }
  await ensureRelease(helm, baseSpec(ctx.cluster, current.revision, next.version), ctx.log);
  const tags = await heldTags(helm, next.revision);
  await ensureRelease(
    helm,
    istiodSpec(ctx.cluster, next.revision, next.version, orderTags(ctx.cluster, tags)),
    ctx.log,
  );
}

/**
 * Moves `tag` from revision `from` to revision `to` with no moment where the tag has no webhook (see
 * src/istio/tags.ts). Idempotent: re-running after an interruption finishes the move.
 */
export async function moveTag(
  ctx: IstioCtx,
  helm: Helm,
  tag: string,
  from: Revision,
  to: Revision,
): Promise<'moved' | 'unchanged'> {
  const kube = await ctx.kube();
  const toRelease = istiodRelease(to.revision);
  const fromTags = await heldTags(helm, from.revision);
  const toTags = await heldTags(helm, to.revision);
  const before = await readTag(kube, tag);
  if (before?.revision === to.revision && toTags.includes(tag) && !fromTags.includes(tag)) {
    await releaseKeep(kube, tag);
    return 'unchanged';
  }
  ctx.log.action(`moving tag ${tag}: ${from.revision} → ${to.revision}`);
  if (before) await handOver(kube, tag, toRelease);
  if (fromTags.includes(tag)) {
    const rest = fromTags.filter((t) => t !== tag);
    await ensureRelease(helm, istiodSpec(ctx.cluster, from.revision, from.version, rest), ctx.log);
  }
  const held = orderTags(ctx.cluster, [...toTags, tag]);
  await ensureRelease(helm, istiodSpec(ctx.cluster, to.revision, to.version, held), ctx.log);
  await releaseKeep(kube, tag);
  const after = await readTag(kube, tag);
  if (after?.revision !== to.revision) {
    throw new PlatctlError('ISTIO_TAG', `tag ${tag} should point at ${to.revision} but points at ${after?.revision}`);
  }
  ctx.log.success(`tag ${tag} now points at ${to.revision} (new pods in its namespaces get that revision's proxy)`);
  return 'moved';
}

/** The namespaces still served by `revision`: labelled with it directly or with a tag it holds. */
export async function servedBy(ctx: IstioCtx, revision: string): Promise<{ namespaces: string[]; tags: string[] }> {
  const kube = await ctx.kube();
  const tags = [...(await readTags(kube)).values()].filter((t) => t.revision === revision).map((t) => t.tag);
  return { namespaces: await namespacesPointingAt(kube, [revision, ...tags]), tags };
}

/**
 * Removes revision `remove` once nothing points at it, leaving `keep`: refuses, naming the namespaces (and
 * tags), otherwise. istio-base first moves to `keep` (defaultRevision and chart version). `--finish` removes
 * the old revision this way; `--rollback` without --tag removes the canary.
 */
export async function removeRevision(ctx: IstioCtx, helm: Helm, remove: Revision, keep: Revision): Promise<void> {
  const { namespaces, tags } = await servedBy(ctx, remove.revision);
  if (namespaces.length > 0) {
    throw new PlatctlError(
      'ISTIO_REVISION_IN_USE',
      `revision ${remove.revision} still serves namespace${namespaces.length === 1 ? '' : 's'} ${namespaces.join(', ')}` +
        (tags.length > 0 ? ` (through tag ${tags.join(', ')})` : ''),
      {
        hint: 'move the tag with --tag <tag> (or --rollback --tag <tag>), or relabel those namespaces, then run this again',
      },
    );
  }
  if (tags.length > 0) {
    throw new PlatctlError(
      'ISTIO_REVISION_IN_USE',
      `tag ${tags.join(', ')} still points at revision ${remove.revision}`,
      {
        hint: `move it to ${keep.revision} first (--tag ${tags[0]}, or --rollback --tag ${tags[0]})`,
      },
    );
  }
  const release = istiodRelease(remove.revision);
  const ok = await ctx.prompt.confirm(`remove Istio revision ${remove.revision} (helm release ${release})?`);
  if (!ok) throw new PlatctlError('ABORTED', `kept revision ${remove.revision}`);
  await ensureRelease(helm, baseSpec(ctx.cluster, keep.revision, keep.version), ctx.log);
  if (await helm.uninstall(release, ISTIO_NAMESPACE)) {
    ctx.log.success(`revision ${remove.revision} removed (helm release ${release} uninstalled)`);
  }
}
