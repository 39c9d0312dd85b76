/** Adoption manifests: the same release names, namespaces, versions and values bootstrap installed with helm. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { validateConfig } from '../../src/config/load.js';
import { adoptionFiles } from '../../src/flux/adoption.js';
import { isPristine } from '../../src/flux/fleet.js';
import { parseManifests } from '../../src/flux/manifests.js';
import { istioSpecs } from '../../src/istio/values.js';
import type { StepOutputs } from '../../src/state/types.js';
import { platformVars } from '../../src/vars/catalogue.js';
import { vaultSpec } from '../../steps/vault.js';
import { clusterConfig, rawCluster, rawPlatform, withField } from '../helpers/config.js';
import { substituteStream } from '../helpers/flux-envsubst.js';

type Release = KubeObject & {
  spec: Record<string, unknown> & { chart: { spec: Record<string, unknown> }; values: Record<string, unknown> };
};

function objects(cluster = clusterConfig('demo'), outputs: Record<string, StepOutputs> = {}) {
  const files = adoptionFiles({ cluster, outputs: (id) => outputs[id] ?? {} });
  const all = files.flatMap((f) => parseManifests(f.content));
  const release = (name: string) => all.find((o) => o.kind === 'HelmRelease' && o.metadata.name === name) as Release;
  return { files, all, release };
}

describe('adoption manifests', () => {
  it('are editable files under the cluster folder', () => {
    const { files } = objects();
    expect(files.map((f) => f.path)).toEqual([
      'clusters/demo/platform/sources.yaml',
      'clusters/demo/platform/istio.yaml',
      'clusters/demo/platform/vault.yaml',
    ]);
    expect(files.every((f) => f.editable)).toBe(true);
    expect(isPristine(files[0]?.content ?? '')).toBe(false);
  });

  it('name the releases and namespaces helm installed, and store Helm state where helm did', () => {
    const { release } = objects(clusterConfig('demo'), {
      istio: { revision: 'stable', tags: ['prod-stable'] },
      vault: { release: 'vault', namespace: 'secrets' },
    });
    const want: [string, string, string][] = [
      ['istio-base', 'istio-system', 'base'],
      ['istiod-stable', 'istio-system', 'istiod'],
      ['istio-ingress', 'istio-ingress', 'gateway'],
      ['vault', 'secrets', 'vault'],
    ];
    for (const [name, ns, chart] of want) {
      const r = release(name);
      expect(r.metadata.namespace, name).toBe('flux-system');
      expect(r.spec, name).toMatchObject({
        releaseName: name,
        targetNamespace: ns,
        storageNamespace: ns,
        serviceAccountName: 'helm-controller',
      });
      expect(r.spec.chart.spec.chart, name).toBe(chart);
    }
    expect(release('istiod-stable').spec.dependsOn).toEqual([{ name: 'istio-base' }]);
    expect(release('istio-ingress').spec.dependsOn).toEqual([{ name: 'istiod-stable' }]);
    expect(release('istiod-stable').spec.values).toMatchObject({ revision: 'stable', revisionTags: ['prod-stable'] });
  });

  it('pin the chart versions from config and fall back to a revision derived from the Istio version', () => {
    const cluster = clusterConfig('demo');
    const { release } = objects(cluster);
    expect(release('istiod-1-30-3').spec.chart.spec.version).toBe(cluster.istio.version);
    expect(release('vault').spec.chart.spec.version).toBe(cluster.vault.chartVersion);
    expect(release('vault').spec.targetNamespace).toBe(cluster.vault.namespace);
  });

  it('point at chart repositories Flux can reach: config URLs, OCI typed, public defaults for local chart paths', () => {
    const local = { ...clusterConfig('demo') };
    local.istio = { ...local.istio, charts: '/work/shared/fixtures/charts/istio' };
    local.vault = { ...local.vault, chart: 'oci://registry.internal/charts' };
    const repos = objects(local).all.filter((o) => o.kind === 'HelmRepository') as (KubeObject & {
      spec: Record<string, unknown>;
    })[];
    expect(repos.map((r) => [r.metadata.name, r.spec.url, r.spec.type])).toEqual([
      ['istio', 'https://istio-release.storage.googleapis.com/charts', undefined],
      ['hashicorp', 'oci://registry.internal/charts', 'oci'],
    ]);
  });

  it('point at the chart repositories flux.charts names (a mirror), with credentials where needed', () => {
    const raw = withField(rawCluster('demo'), ['flux', 'charts'], {
      istio: { url: 'oci://123456789012.dkr.ecr.us-east-1.amazonaws.com/helm/' },
      vault: { url: 'https://artifactory.example.com/artifactory/api/helm/hashicorp', secretRef: 'artifactory-helm' },
    });
    const cluster = validateConfig(rawPlatform(raw), 'test').clusters[0]!;
    const repos = objects(cluster).all.filter((o) => o.kind === 'HelmRepository');
    expect(repos.map((r) => [r.metadata.name, r.spec])).toEqual([
      [
        'istio',
        {
          interval: '1h',
          url: 'oci://123456789012.dkr.ecr.us-east-1.amazonaws.com/helm',
          type: 'oci',
          // The account's own ECR: the registry step's synced credentials.
          secretRef: { name: 'ecr-credentials' },
        },
      ],
      [
        'hashicorp',
        {
          interval: '1h',
          url: 'https://artifactory.example.com/artifactory/api/helm/hashicorp',
          secretRef: { name: 'artifactory-helm' },
        },
      ],
    ]);
  });

  it('carry exactly the values the istio and vault steps install with, once Flux substitutes the variables', () => {
    const cluster = { ...clusterConfig('demo'), images: { mirror: 'mirror.example/m' } };
    const outputs: Record<string, StepOutputs> = {
      kms: { vaultKeyAlias: 'alias/demo-vault' },
      iam: { vaultRoleArn: 'arn:aws:iam::123456789012:role/demo-vault' },
    };
    const from = { cluster, outputs: (id: string) => outputs[id] ?? {} };
    const applied = adoptionFiles(from).flatMap((f) =>
      substituteStream(f.content, platformVars(from), { strict: true }),
    );
    const release = (name: string) =>
      applied.find((o) => (o as Release).kind === 'HelmRelease' && (o as Release).metadata.name === name) as Release;
    for (const spec of istioSpecs(cluster))
      expect(release(spec.release).spec.values, spec.release).toEqual(spec.values);
    const vault = vaultSpec(from);
    expect(release(vault.release).spec.values).toEqual(vault.values);
    expect(JSON.stringify(release('vault').spec.values)).toContain('alias/demo-vault');
  });

  it('hold the Vault role, its KMS alias and the region as cluster variables, so the file suits any cluster', () => {
    const vaultFile = (name: string, region: string, accountId: string) => {
      const cluster = { ...clusterConfig(name), aws: { accountId, region, tags: {} } };
      const outputs: Record<string, StepOutputs> = {
        kms: { vaultKeyAlias: `alias/platctl/${name}/vault` },
        iam: { vaultRoleArn: `arn:aws:iam::${accountId}:role/platctl/${name}/eks-vault-${name}` },
      };
      return adoptionFiles({ cluster, outputs: (id) => outputs[id] ?? {} }).find((f) => f.path.endsWith('vault.yaml'));
    };
    const a = vaultFile('prod-us', 'us-east-1', '111111111111');
    expect(a?.content).toContain('eks.amazonaws.com/role-arn: "${vault_iam_role_arn}"');
    expect(a?.content).toContain('kms_key_id = "${vault_kms_key_alias}"');
    expect(a?.content).toContain('region = "${aws_region}"');
    expect(a?.content).not.toMatch(/111111111111|prod-us|us-east-1/);
    expect(vaultFile('prod-eu', 'eu-west-1', '222222222222')?.content).toBe(a?.content);
  });

  it('name no variable that would be unset: without the iam and kms outputs, no role annotation and no seal', () => {
    const { release } = objects(clusterConfig('demo'));
    const text = JSON.stringify(release('vault').spec.values);
    expect(text).not.toContain('${');
    expect(text).not.toContain('role-arn');
  });

  it('carry the image mirror in the values', () => {
    const cluster = { ...clusterConfig('demo'), images: { mirror: 'mirror.example/m' } };
    const { release } = objects(cluster);
    expect(release('istiod-1-30-3').spec.values).toMatchObject({ global: { hub: 'mirror.example/m/istio' } });
    expect(release('vault').spec.values).toMatchObject({
      server: { image: { repository: 'mirror.example/m/hashicorp/vault' } },
    });
  });
});
