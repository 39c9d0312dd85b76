/**
 * Istio revision naming and the fixed names platctl installs under. A revision is the version with dots
 * turned into dashes (1.30.3 → 1-30-3), so two versions can run side by side as istiod-1-30-3 and
 * istiod-1-30-4; revision tags (prod-stable) are stable aliases that namespaces point at.
 */

import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';

/** Namespace of the control plane and of istio-base. */
export const ISTIO_NAMESPACE = 'istio-system';
/** Namespace of the ingress gateway. */
export const GATEWAY_NAMESPACE = 'istio-ingress';
/** Release of the CRDs and the default validator. */
export const BASE_RELEASE = 'istio-base';
/** Release of the ingress gateway. */
export const GATEWAY_RELEASE = 'istio-ingress';

/** The helm release of one control-plane revision. */
export function istiodRelease(revision: string): string {
  return `istiod-${revision}`;
}

/** 1.30.3 → 1-30-3 (a DNS label, as Istio requires for revisions). */
export function revisionName(version: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new PlatctlError('USAGE', `"${version}" is not an Istio release such as 1.30.3`);
  }
  return version.replaceAll('.', '-');
}

/** The revision the config asks for: istio.revision if set, else derived from istio.version. */
export function configRevision(cluster: ClusterConfig): string {
  return cluster.istio.revision ?? revisionName(cluster.istio.version);
}

/**
 * The value namespaces get in their `istio.io/rev` label: the first revision tag (so an upgrade moves the
 * tag, not every namespace), or the revision itself when no tags are configured.
 */
export function injectionLabel(cluster: ClusterConfig): string {
  return cluster.istio.tags[0] ?? configRevision(cluster);
}

/** True when workloads in `namespace` get sidecars (it is listed in istio.namespaces). */
export function inMesh(cluster: ClusterConfig, namespace: string): boolean {
  return cluster.istio.namespaces.includes(namespace);
}
