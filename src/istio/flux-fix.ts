/**
 * Flux's trailing-dot FQDNs. source-controller advertises its artifacts at
 * `http://source-controller.flux-system.svc.cluster.local./…` (the final dot skips DNS search domains, and
 * Flux keeps it on purpose). A client with an Istio sidecar sends `Host: …cluster.local.`, which matches no
 * virtual host in the sidecar's route table, so the download fails with 404 (or 503 via the passthrough).
 *
 * The fix chosen (docs/steps/istio.md explains why): an EnvoyFilter in the mesh root namespace that turns on
 * the HTTP connection manager's `strip_trailing_host_dot` for outbound sidecar traffic, so Envoy drops the dot
 * before route matching. It lives in istio-system, which platctl owns, so Flux never reconciles it away;
 * it is one stable HCM field; and it fixes every trailing-dot client, not just source-controller.
 * It is applied only when both Flux and Istio are installed: by the istio step when flux-system exists,
 * and by the flux step (which runs later) through {@link fluxTrailingDotFix}.
 */
import { CRD_API_VERSION } from '../clients/crds.js';
import type { KubeClient, KubeObject, ObjectRef } from '../clients/kube.js';
import type { StepContext } from '../step.js';
import { ISTIO_NAMESPACE } from './revision.js';

/** Name of the EnvoyFilter. */
export const FLUX_FIX_NAME = 'platctl-strip-trailing-host-dot';
const FLUX_NAMESPACE = 'flux-system';
const ENVOYFILTER_CRD = 'envoyfilters.networking.istio.io';

const filterRef: ObjectRef = {
  apiVersion: 'networking.istio.io/v1alpha3',
  kind: 'EnvoyFilter',
  namespace: ISTIO_NAMESPACE,
  name: FLUX_FIX_NAME,
};

/** The EnvoyFilter object. */
export function trailingDotFilter(): KubeObject & { spec: unknown } {
  return {
    apiVersion: filterRef.apiVersion,
    kind: filterRef.kind,
    metadata: {
      name: FLUX_FIX_NAME,
      namespace: ISTIO_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'platctl' },
      annotations: { 'platctl.io/why': 'Flux advertises http://source-controller.flux-system.svc.cluster.local./' },
    },
    spec: {
      configPatches: [
        {
          applyTo: 'NETWORK_FILTER',
          match: {
            context: 'SIDECAR_OUTBOUND',
            listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } },
          },
          patch: {
            operation: 'MERGE',
            value: {
              typed_config: {
                '@type':
                  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                strip_trailing_host_dot: true,
              },
            },
          },
        },
      ],
    },
  };
}

const crdRef = (name: string): ObjectRef => ({
  apiVersion: CRD_API_VERSION,
  kind: 'CustomResourceDefinition',
  name,
});

/** Whether Flux and Istio (its EnvoyFilter CRD) are both there. */
async function bothInstalled(kube: KubeClient): Promise<boolean> {
  const flux = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: FLUX_NAMESPACE });
  if (!flux) return false;
  const crd = await kube.get(crdRef(ENVOYFILTER_CRD));
  return crd !== undefined && !crd.metadata.deletionTimestamp;
}

/** What applying the fix would change: undefined when nothing (or when Flux or Istio is missing). */
export async function fluxFixChange(kube: KubeClient): Promise<string | undefined> {
  if (!(await bothInstalled(kube))) return undefined;
  const have = await kube.get<KubeObject & { spec?: unknown }>(filterRef);
  const want = trailingDotFilter();
  if (have && JSON.stringify(have.spec) === JSON.stringify(want.spec)) return undefined;
  return `${have ? '~' : '+'} EnvoyFilter ${ISTIO_NAMESPACE}/${FLUX_FIX_NAME} (Flux trailing-dot FQDNs)`;
}

/**
 * Applies the trailing-dot fix when Flux and Istio are both installed; a no-op (no write) when it is already
 * there or either is missing. Call it from the flux step after Flux is installed.
 */
export async function fluxTrailingDotFix(
  ctx: Pick<StepContext, 'kube' | 'log' | 'dryRun'>,
): Promise<'applied' | 'unchanged' | 'skipped'> {
  const kube = await ctx.kube();
  const change = await fluxFixChange(kube);
  if (!change) {
    return (await bothInstalled(kube)) ? 'unchanged' : 'skipped';
  }
  if (ctx.dryRun) {
    ctx.log.info(`would apply ${change}`);
    return 'skipped';
  }
  await kube.apply(trailingDotFilter(), { force: true });
  ctx.log.created(`EnvoyFilter ${ISTIO_NAMESPACE}/${FLUX_FIX_NAME}: sidecars strip the trailing dot of Flux's FQDNs`);
  return 'applied';
}

/** Removes the fix (tolerates it, or the CRD, being gone). */
export async function removeFluxTrailingDotFix(kube: KubeClient): Promise<boolean> {
  if (!(await kube.get(crdRef(ENVOYFILTER_CRD)))) return false;
  return kube.delete(filterRef);
}
