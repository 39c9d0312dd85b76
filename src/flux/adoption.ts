/**
 * Adoption: HelmRepository/HelmRelease manifests for what bootstrap installed imperatively with helm
 * (istio-base, istiod-<rev>, the ingress gateway, vault), with the same release names, namespaces, chart
 * versions and values. helm-controller finds each release already in Helm's storage (storageNamespace = the
 * release namespace) and upgrades it in place instead of installing a second copy, so Flux takes the
 * releases over instead of fighting them.
 *
 * The HelmReleases live in flux-system (sources in the same namespace: the lockdown forbids cross-namespace
 * refs) and run as helm-controller's own service account (the lockdown's default account has no rights).
 */

import { readIstioOutputs } from '../../steps/istio.js';
import { readVaultOutputs, vaultValuesInput } from '../../steps/vault.js';
import { accountEcrHost, type ClusterConfig, ecrHostPattern } from '../config/schema.js';
import { configRevision } from '../istio/revision.js';
import { baseValues, gatewayValues, istiodValues } from '../istio/values.js';
import { ECR_SYNC } from '../registry/manifests.js';
import type { OutputSource } from '../state/outputs.js';
import { VAULT_RELEASE, vaultValues } from '../vault/values.js';
import { clusterPath, type FleetFile } from './fleet.js';
import { fluxVar, toFleetYaml as stream } from './substitution.js';

const ISTIO_CHARTS = 'https://istio-release.storage.googleapis.com/charts';
const HASHICORP_CHARTS = 'https://helm.releases.hashicorp.com';
const isRepoUrl = (s: string) => /^(https?|oci):\/\//.test(s);

/** A HelmRepository's source: URL and, for private ones, the Secret in flux-system with credentials. */
export interface ChartRepository {
  url: string;
  secretRef?: string;
}

/**
 * Where Flux pulls the adopted charts from: `flux.charts.<istio|vault>`, else the chart source the istio/vault
 * step installed from when that is a repository (not a local directory), else the upstream repository. An
 * OCI path on the account's own ECR registry (or the ECR image mirror) uses the registry step's
 * `ecr-credentials` Secret unless another is named.
 */
export function chartRepository(cluster: ClusterConfig, release: 'istio' | 'vault'): ChartRepository {
  const fallback = release === 'istio' ? cluster.istio.charts : cluster.vault.chart;
  const upstream = release === 'istio' ? ISTIO_CHARTS : HASHICORP_CHARTS;
  const repo = cluster.flux.charts[release] ?? { url: isRepoUrl(fallback) ? fallback : upstream };
  const url = repo.url.replace(/\/+$/, '');
  const host = /^oci:\/\/([^/]+)/.exec(url)?.[1] ?? '';
  const ecr = [accountEcrHost(cluster.aws.accountId, cluster.aws.region), cluster.images.mirror?.split('/')[0]];
  const secretRef =
    repo.secretRef ?? (ecrHostPattern.test(host) && ecr.includes(host) ? ECR_SYNC.secretName : undefined);
  return { url, ...(secretRef ? { secretRef } : {}) };
}

/** The Helm values of each adopted release. */
export interface AdoptionValues {
  istioBase: Record<string, unknown>;
  istiod: Record<string, unknown>;
  gateway: Record<string, unknown>;
  vault: Record<string, unknown>;
}

/** Where the adoption reads from: the config and the earlier steps' recorded outputs (a step context). */
export type AdoptionSource = OutputSource & { cluster: ClusterConfig };

/** What the istio and vault steps installed: their recorded outputs, else what the config asks for. */
export function adoptedReleases(from: AdoptionSource) {
  const { cluster } = from;
  const istio = readIstioOutputs(from);
  const vault = readVaultOutputs(from);
  return {
    revision: istio.revision ?? configRevision(cluster),
    tags: istio.tags ?? cluster.istio.tags,
    vaultRelease: vault.release ?? VAULT_RELEASE,
    vaultNamespace: vault.namespace ?? cluster.vault.namespace,
  };
}

/**
 * The values the istio and vault steps install with, from their own builders (src/istio/values.ts,
 * src/vault/values.ts) and the same inputs, so Flux's upgrade of the adopted releases changes nothing.
 * With `vars`, as the fleet repo carries them: what differs between clusters of one config (the Vault role's
 * ARN, its KMS alias, the region) is a cluster variable that Flux substitutes back to the same value
 * (src/vars/catalogue.ts fills those variables from the same outputs).
 */
export function adoptionValues(from: AdoptionSource, o: { vars?: boolean } = {}): AdoptionValues {
  const { cluster } = from;
  const r = adoptedReleases(from);
  const vault = vaultValuesInput(from);
  return {
    istioBase: baseValues(r.revision),
    istiod: istiodValues(cluster, r.revision, r.tags),
    gateway: gatewayValues(cluster),
    vault: vaultValues(
      o.vars
        ? {
            ...vault,
            region: fluxVar('aws_region'),
            roleArn: vault.roleArn && fluxVar('vault_iam_role_arn'),
            kmsAlias: vault.kmsAlias && fluxVar('vault_kms_key_alias'),
          }
        : vault,
    ),
  };
}

function helmRepository(name: string, repo: ChartRepository) {
  return {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'HelmRepository',
    metadata: { name, namespace: 'flux-system' },
    spec: {
      interval: '1h',
      url: repo.url,
      ...(repo.url.startsWith('oci://') ? { type: 'oci' } : {}),
      ...(repo.secretRef ? { secretRef: { name: repo.secretRef } } : {}),
    },
  };
}

function helmRelease(o: {
  release: string;
  namespace: string;
  chart: string;
  version: string;
  repo: string;
  values: Record<string, unknown>;
  dependsOn?: string;
}) {
  return {
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: o.release, namespace: 'flux-system' },
    spec: {
      interval: '1h',
      releaseName: o.release,
      targetNamespace: o.namespace,
      storageNamespace: o.namespace,
      serviceAccountName: 'helm-controller',
      chart: { spec: { chart: o.chart, version: o.version, sourceRef: { kind: 'HelmRepository', name: o.repo } } },
      ...(o.dependsOn ? { dependsOn: [{ name: o.dependsOn }] } : {}),
      values: o.values,
    },
  };
}

/** The adoption manifests, under `<clusterPath>/platform/` (editable: platctl never overwrites your edits). */
export function adoptionFiles(
  from: AdoptionSource,
  values: AdoptionValues = adoptionValues(from, { vars: true }),
): FleetFile[] {
  const { cluster } = from;
  const r = adoptedReleases(from);
  const dir = `${clusterPath(cluster)}/platform`;
  const v = cluster.istio.version;
  const istiod = `istiod-${r.revision}`;
  return [
    {
      path: `${dir}/sources.yaml`,
      content: stream([
        helmRepository('istio', chartRepository(cluster, 'istio')),
        helmRepository('hashicorp', chartRepository(cluster, 'vault')),
      ]),
      editable: true,
    },
    {
      path: `${dir}/istio.yaml`,
      content: stream([
        helmRelease({
          release: 'istio-base',
          namespace: 'istio-system',
          chart: 'base',
          version: v,
          repo: 'istio',
          values: values.istioBase,
        }),
        helmRelease({
          release: istiod,
          namespace: 'istio-system',
          chart: 'istiod',
          version: v,
          repo: 'istio',
          values: values.istiod,
          dependsOn: 'istio-base',
        }),
        helmRelease({
          release: 'istio-ingress',
          namespace: 'istio-ingress',
          chart: 'gateway',
          version: v,
          repo: 'istio',
          values: values.gateway,
          dependsOn: istiod,
        }),
      ]),
      editable: true,
    },
    {
      path: `${dir}/vault.yaml`,
      content: stream([
        helmRelease({
          release: r.vaultRelease,
          namespace: r.vaultNamespace,
          chart: 'vault',
          version: cluster.vault.chartVersion,
          repo: 'hashicorp',
          values: values.vault,
        }),
      ]),
      editable: true,
    },
  ];
}
