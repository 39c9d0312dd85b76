/**
 * The tenant commands and Flux: asking it to fetch a pushed commit now, and, before `remove-tenant --apply`
 * deletes anything, waiting until Flux itself has applied the removal.
 */
import { isNotFound, type ObjectRef } from '../clients/kube.js';
import { PlatctlError } from '../errors.js';
import { parseDuration, requestReconcile, syncRefs, waitForSync } from '../flux/wait.js';
import type { StepContext } from '../step.js';
import { indexKustomization } from './fleet.js';
import { waitGone } from './live.js';

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
  const meta = indexKustomization(tenant).metadata;
  const index: ObjectRef = {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    namespace: meta.namespace,
    name: meta.name,
  };
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
