/**
 * Binding tenant hosts to the ops-owned Istio Gateway (`istio-ingress/platform-gateway` unless configured).
 * Its `spec.servers` is a plain list in Istio's CRD schema (no `x-kubernetes-list-type: map`), so server-side
 * apply would treat it as atomic: one field manager per tenant could not own single entries. platctl therefore
 * reads, changes only the entries named `tenant.<tenant>.<host>` and replaces with the resourceVersion it read,
 * starting over on a conflict. Servers ops wrote are never touched.
 */
import { isNotFound, type KubeClient, type KubeObject, type ObjectRef, retryOnConflict } from '../clients/kube.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { sameJson } from './live.js';
import { GATEWAY_NAMESPACE, type GatewayServer, serverOwner } from './manifests.js';

/** The Gateway platctl binds tenant hosts to when the config names none. */
export const DEFAULT_GATEWAY = 'platform-gateway';

/** An Istio Gateway as read from the cluster. */
export type GatewayObject = KubeObject & { spec?: { selector?: Record<string, string>; servers?: GatewayServer[] } };

/** The ops Gateway of a cluster (`istio.gateway`, default {@link DEFAULT_GATEWAY}). */
export function gatewayRef(cluster: ClusterConfig): ObjectRef {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    namespace: GATEWAY_NAMESPACE,
    name: cluster.istio.gateway || DEFAULT_GATEWAY,
  };
}

/** `istio-ingress/platform-gateway`, for messages. */
export const gatewayLabel = (ref: ObjectRef) => `${ref.namespace}/${ref.name}`;

/** Reads the Gateway; undefined when it (or Istio's API) is not there. */
export async function readGateway(kube: KubeClient, ref: ObjectRef): Promise<GatewayObject | undefined> {
  try {
    return await kube.get<GatewayObject>(ref);
  } catch (err) {
    // No Istio CRDs: discovery of networking.istio.io answers 404.
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * The Gateway's servers with each listed tenant's entries replaced by the wanted ones (in place of the first
 * old entry, so a re-run keeps the order); undefined when nothing changes.
 */
export function rebind(
  servers: readonly GatewayServer[],
  want: ReadonlyMap<string, readonly GatewayServer[]>,
): GatewayServer[] | undefined {
  let next = [...servers];
  let changed = false;
  for (const [tenant, desired] of want) {
    const owned = next.filter((s) => serverOwner(s) === tenant);
    if (sameJson(owned, desired)) continue;
    changed = true;
    const at = next.findIndex((s) => serverOwner(s) === tenant);
    const others = next.filter((s) => serverOwner(s) !== tenant);
    const index = at < 0 ? others.length : next.slice(0, at).filter((s) => serverOwner(s) !== tenant).length;
    next = [...others.slice(0, index), ...desired, ...others.slice(index)];
  }
  return changed ? next : undefined;
}

/** Options for {@link bindGateway}. */
export interface BindOptions {
  /** The Gateway as already read (saves a request on the first attempt). */
  current?: GatewayObject;
  dryRun?: boolean;
}

/**
 * Makes the Gateway's entries of each tenant in `want` exactly the given servers (empty: unbind). Returns
 * whether the Gateway changed (or, in a dry run, would). A missing Gateway is an error only when a tenant
 * needs a server on it.
 */
export async function bindGateway(
  kube: KubeClient,
  ref: ObjectRef,
  want: ReadonlyMap<string, readonly GatewayServer[]>,
  opts: BindOptions = {},
): Promise<boolean> {
  return retryOnConflict(
    async (attempt) => {
      // After a conflict someone else changed it: read again and redo only our entries.
      const gw = (attempt === 1 ? opts.current : undefined) ?? (await readGateway(kube, ref));
      if (!gw) {
        const needs = [...want].filter(([, s]) => s.length > 0).map(([t]) => t);
        if (needs.length === 0) return false;
        throw missingGateway(ref, needs);
      }
      const servers = rebind(gw.spec?.servers ?? [], want);
      if (!servers) return false;
      if (opts.dryRun) return true;
      await kube.replace({ ...gw, spec: { ...gw.spec, servers } });
      return true;
    },
    {
      attempts: 5,
      exhausted: (last) =>
        new PlatctlError('KUBE_CONFLICT', `Gateway ${gatewayLabel(ref)} kept changing under platctl (5 attempts)`, {
          cause: last,
          hint: 'another writer is updating the Gateway in a loop; run add-tenant again once it settles',
        }),
    },
  );
}

/** The error for tenants with hosts when the ops Gateway is not there. */
export function missingGateway(ref: ObjectRef, tenants: readonly string[]): PlatctlError {
  return new PlatctlError(
    'TENANT_GATEWAY_MISSING',
    `Gateway ${gatewayLabel(ref)} not found: tenant ${tenants.join(', ')} has hosts to bind to it`,
    {
      hint: `ops own that Gateway (networking.istio.io/v1, selector istio: ingress): create it in ${ref.namespace}, or add the tenant without --host`,
    },
  );
}
