/**
 * The tenant commands and Flux: asking it to fetch a pushed commit now, and, before `remove-tenant --apply`
 * deletes anything or add-tenant adds back a tenant Flux still holds, waiting until Flux itself has applied the
 * removal.
 */
import { isNotFound, type ObjectRef } from '../clients/kube.js';
import { PlatctlError } from '../errors.js';
import { fluxRevision } from '../flux/fleet.js';
import { parseDuration, requestReconcile, syncRefs, waitForSync } from '../flux/wait.js';
import { git } from '../git/git.js';
import type { StepContext } from '../step.js';
import { indexKustomization } from './fleet.js';
import { waitGone } from './live.js';
import { TENANT_LABEL } from './manifests.js';

/** `flux-system/tenant-<t>`: the Kustomization through which the fleet repo's tenants.yaml holds a tenant. */
function indexRef(tenant: string): ObjectRef {
  const meta = indexKustomization(tenant).metadata;
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    namespace: meta.namespace,
    name: meta.name,
  };
}

/**
 * After a push: asks Flux to fetch and apply the fleet repo now (as `flux reconcile ks flux-system --with-source`)
 * rather than at its next interval. Returns the request's token, or undefined when Flux is not installed yet
 * (nothing to ask).
 */
export async function askFluxToFetch(ctx: StepContext, sha: string | undefined): Promise<string | undefined> {
  const kube = await ctx.kube();
  const refs = syncRefs();
  const installed = await kube.get(refs[0]!).catch((err: unknown) => {
    // No Flux CRDs yet: the API server does not serve the kind (isNotFound covers both).
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (!installed) return undefined;
  const token = await requestReconcile(kube, refs);
  ctx.log.info(`asked Flux to sync ${sha} now`);
  return token;
}

/**
 * Waits, within `flux.timeout`, until Flux has applied the removal commit and pruned `flux-system/tenant-<t>`.
 * Deleting the tenant's objects before that races a root sync still applying an older revision: it puts
 * tenant-<t> back, and when Flux prunes it later, its garbage collection deletes the tenant's namespaces, those of
 * the same tenant added again meanwhile included, deploy-key Secret and all. Flux not getting there in time is a
 * warning: the fleet repo is already right, and Flux will catch up.
 */
export async function waitForFluxRemoval(
  ctx: StepContext,
  tenant: string,
  revision: string,
  requested: string,
): Promise<void> {
  const kube = await ctx.kube();
  const timeoutMs = parseDuration(ctx.cluster.flux.timeout);
  const deadline = Date.now() + timeoutMs;
  const index = indexRef(tenant);
  ctx.log.waiting(`waiting for Flux to apply the removal of tenant ${tenant} (${revision})`);
  try {
    await waitForSync(kube, { revision, requested, timeoutMs, progress: ctx.progress });
    await waitGone(kube, [index], { timeoutMs: Math.max(1000, deadline - Date.now()), progress: ctx.progress });
  } catch (err) {
    if (!(err instanceof PlatctlError)) throw err;
    ctx.log.warning(
      `${err.message}. Deleting tenant ${tenant}'s objects anyway; until Flux has synced ${revision}, adding ` +
        `${tenant} again may lose its namespaces`,
    );
  }
}

/**
 * Before tenants without a record are added: any of them that Flux still holds (`flux-system/tenant-<t>`) was
 * removed from the fleet repo without `--apply`, and Flux has not applied that yet. Adding it now races Flux: when
 * it applies the removal later, its prune of tenant-<t> deletes the namespaces added again, deploy-key Secret and
 * all. So Flux is asked to sync the fleet repo's current head, and the add waits (within `flux.timeout`) until
 * those Kustomizations are gone; one Flux keeps at that head is still in the fleet repo, and is left alone.
 * Flux not getting there in time is an error: nothing has been written yet. True when it waited.
 */
export async function waitForPendingRemovals(ctx: StepContext, tenants: readonly string[]): Promise<boolean> {
  if (tenants.length === 0) return false;
  const kube = await ctx.kube();
  // One list for the batch, whatever its size (a GET per tenant would grow with it).
  const index = indexRef(tenants[0]!);
  const listed = await kube.list(index.apiVersion, index.kind, { namespace: index.namespace }).catch((err: unknown) => {
    if (isNotFound(err)) return []; // no Flux CRDs: nothing held
    throw err;
  });
  const names = new Set(listed.map((k) => k.metadata.name));
  const held = tenants.map((tenant) => ({ tenant, ref: indexRef(tenant) })).filter((h) => names.has(h.ref.name));
  if (held.length === 0 || ctx.dryRun) return false;
  const { url, branch } = ctx.cluster.fleet;
  const head = (await git(ctx.exec, ['ls-remote', url, `refs/heads/${branch}`])).stdout.split('\t')[0]?.trim();
  if (!head) return false; // no branch: no removal commit either
  const revision = fluxRevision(branch, head);
  const label = `tenant ${held.map((h) => h.tenant).join(', ')}`;
  ctx.log.waiting(`waiting for Flux to apply ${revision} first: ${label} is still in the cluster's Flux`);
  const timeoutMs = parseDuration(ctx.cluster.flux.timeout);
  const deadline = Date.now() + timeoutMs;
  try {
    // Asked to fetch now; Ready at the head ls-remote saw is proof enough, so no wait for the request itself.
    await requestReconcile(kube, syncRefs());
    await waitForSync(kube, { revision, timeoutMs, progress: ctx.progress });
    const pruning: ObjectRef[] = [];
    for (const { ref } of held) if ((await kube.get(ref))?.metadata.deletionTimestamp) pruning.push(ref);
    const left = () => ({ timeoutMs: Math.max(1000, deadline - Date.now()), progress: ctx.progress });
    await waitGone(kube, pruning, left());
    // Their garbage collection deleted the tenants' namespaces: nothing can be created in one until it is gone.
    const selector = `${TENANT_LABEL} in (${held.map((h) => h.tenant).join(',')})`;
    const terminating = (await kube.list('v1', 'Namespace', { labelSelector: selector }))
      .filter((n) => n.metadata.deletionTimestamp)
      .map((n) => ({ apiVersion: 'v1', kind: 'Namespace', name: n.metadata.name }));
    await waitGone(kube, terminating, left());
    return true;
  } catch (err) {
    if (!(err instanceof PlatctlError)) throw err;
    throw new PlatctlError(
      'FLUX_NOT_READY',
      `${label} removed from the fleet repo, but Flux has not applied that: adding it back now could lose its namespaces when Flux does (${err.message})`,
      {
        cause: err,
        hint: 'let Flux catch up (`flux reconcile ks flux-system --with-source`), then run add-tenant again',
      },
    );
  }
}
