/**
 * Istio under Flux. After the flux step's adoption, HelmReleases applied from the fleet repo manage
 * istio-base, istiod-<rev> and the gateway. A canary move made with helm would be undone by helm-controller
 * at its next reconcile (old values, the tag pulled back, a finished revision reinstalled). So `istio upgrade`
 * suspends them first, as `flux suspend helmrelease` does, and says what the fleet repo must say before they
 * are resumed. See docs/commands/istio-upgrade.md.
 */
import type { KubeClient, KubeObject } from '../clients/kube.js';
import type { ClusterConfig } from '../config/schema.js';
import { clusterPath } from '../flux/fleet.js';
import { listAll } from '../flux/install.js';
import type { Logger } from '../log.js';
import { BASE_RELEASE, GATEWAY_NAMESPACE, GATEWAY_RELEASE, ISTIO_NAMESPACE } from './revision.js';

const HR = { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease' };
const NAMESPACES = new Set([ISTIO_NAMESPACE, GATEWAY_NAMESPACE]);
const isIstio = (name: string) => name === BASE_RELEASE || name === GATEWAY_RELEASE || name.startsWith('istiod-');

interface HelmRelease extends KubeObject {
  spec?: { suspend?: boolean; releaseName?: string; targetNamespace?: string };
}

/**
 * The Flux HelmReleases (in any namespace: the adoption puts them in flux-system) whose Helm release is one of
 * Istio's, by release name and target namespace. None when Flux is not installed.
 */
export async function istioHelmReleases(kube: KubeClient): Promise<HelmRelease[]> {
  const all = (await listAll(kube, HR.apiVersion, HR.kind)) as HelmRelease[];
  return all.filter(
    (o) =>
      NAMESPACES.has(o.spec?.targetNamespace ?? o.metadata.namespace ?? '') &&
      isIstio(o.spec?.releaseName ?? o.metadata.name),
  );
}

/** Suspends each of them not yet suspended; returns all of them as "namespace/name". */
export async function suspendIstioHelmReleases(kube: KubeClient, log: Logger): Promise<string[]> {
  const held: string[] = [];
  for (const hr of await istioHelmReleases(kube)) {
    const { name, namespace } = hr.metadata;
    if (!hr.spec?.suspend) {
      await kube.patch({ ...HR, name, namespace }, { spec: { suspend: true } });
      log.warning(`suspended Flux HelmRelease ${namespace}/${name}, so Flux does not undo the upgrade`);
    }
    held.push(`${namespace}/${name}`);
  }
  return held;
}

/** What to do once the upgrade is over: make the fleet repo say what runs, then resume. */
export function handoverSteps(cluster: ClusterConfig, held: readonly string[], version: string): string[] {
  const resume = held.map((h) => {
    const [ns, name] = h.split('/');
    return `flux resume helmrelease -n ${ns} ${name}`;
  });
  return [
    `Flux HelmReleases stay suspended: ${held.join(', ')}`,
    `once the upgrade is finished, make ./${clusterPath(cluster)}/platform/istio.yaml in the fleet repo say what runs: ` +
      `istio-base and the gateway at chart ${version}, a HelmRelease istiod-<new revision> holding the tags, no istiod-<old revision>; push it`,
    `then resume them: ${resume.join('; ')}`,
  ];
}
