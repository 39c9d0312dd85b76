/**
 * Helm values for the three Istio releases, generated from config. Only what platctl decides is set; the
 * charts' defaults do the rest. Keys follow the 1.30 charts (../shared/fixtures/charts/istio): the istiod
 * chart flattens the old `pilot.*` block to the top level, so istiod's environment is `env`, not `pilot.env`.
 */
import type { ClusterConfig } from '../config/schema.js';
import { mirrorHub } from '../images.js';
import { chartSource } from '../tools/helm-chart.js';
import type { ReleaseSpec } from '../tools/helm-ensure.js';
import {
  BASE_RELEASE,
  configRevision,
  GATEWAY_NAMESPACE,
  GATEWAY_RELEASE,
  ISTIO_NAMESPACE,
  istiodRelease,
} from './revision.js';

/** Upstream image hub of Istio's images (pilot, proxyv2). */
export const ISTIO_HUB = 'docker.io/istio';

/** Native sidecars need Kubernetes ≥ 1.29 (SidecarContainers on by default). */
export function nativeSidecars(cluster: ClusterConfig): boolean {
  const minor = Number(cluster.kubernetes.version.split('.')[1] ?? 0);
  return minor >= 29;
}

/** istio-base: CRDs and the default validator, pointed at the default revision. */
export function baseValues(defaultRevision: string): Record<string, unknown> {
  return { defaultRevision };
}

/**
 * istiod for one revision, holding `tags`. Proxy start ordering is handled twice over: native sidecars (the
 * proxy is an init container with restartPolicy Always, so it starts first and Jobs can finish), and
 * holdApplicationUntilProxyStarts for pods that opt out of native sidecars.
 */
export function istiodValues(
  cluster: ClusterConfig,
  revision: string,
  tags: readonly string[],
): Record<string, unknown> {
  return {
    revision,
    revisionTags: [...tags],
    global: { hub: mirrorHub(ISTIO_HUB, cluster.images.mirror) },
    env: { ENABLE_NATIVE_SIDECARS: String(nativeSidecars(cluster)) },
    meshConfig: { defaultConfig: { holdApplicationUntilProxyStarts: true } },
  };
}

/** The ingress gateway: injected by the first tag, so moving the tag moves the gateway on its next restart. */
export function gatewayValues(cluster: ClusterConfig): Record<string, unknown> {
  return { revision: cluster.istio.tags[0] ?? configRevision(cluster) };
}

/** Chart source for one Istio chart (base, istiod, gateway) at `version`. */
export function istioChart(cluster: ClusterConfig, chart: 'base' | 'istiod' | 'gateway', version: string) {
  return chartSource(cluster.istio.charts, chart, version);
}

/** The base release spec: CRDs of `version`, defaultRevision = `defaultRevision`. */
export function baseSpec(
  cluster: ClusterConfig,
  defaultRevision: string,
  version = cluster.istio.version,
): ReleaseSpec {
  return {
    release: BASE_RELEASE,
    namespace: ISTIO_NAMESPACE,
    chart: istioChart(cluster, 'base', version),
    values: baseValues(defaultRevision),
  };
}

/** The istiod release spec of `revision` at `version`, holding `tags`. */
export function istiodSpec(
  cluster: ClusterConfig,
  revision: string,
  version: string,
  tags: readonly string[],
): ReleaseSpec {
  return {
    release: istiodRelease(revision),
    namespace: ISTIO_NAMESPACE,
    chart: istioChart(cluster, 'istiod', version),
    values: istiodValues(cluster, revision, tags),
  };
}

/** The gateway release spec. */
export function gatewaySpec(cluster: ClusterConfig): ReleaseSpec {
  return {
    release: GATEWAY_RELEASE,
    namespace: GATEWAY_NAMESPACE,
    chart: istioChart(cluster, 'gateway', cluster.istio.version),
    values: gatewayValues(cluster),
  };
}

/** The three releases the istio step wants, in install order. */
export function istioSpecs(cluster: ClusterConfig): ReleaseSpec[] {
  const rev = configRevision(cluster);
  return [
    baseSpec(cluster, rev),
    istiodSpec(cluster, rev, cluster.istio.version, cluster.istio.tags),
    gatewaySpec(cluster),
  ];
}
