/**
 * The tenants' fleet files and the cluster variables: `tenants/<tenant>/` says `${istio_revision_tag}` where a
 * cluster's tag goes, so one folder serves every cluster listing the tenant; `flux-system/tenant-<tenant>`
 * substitutes from flux-system/platform-vars; after substitution the objects are the ones `--apply` applies.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { validateConfig } from '../../src/config/load.js';
import { tenantFiles, tenantsIndexFile } from '../../src/tenants/fleet.js';
import { tenantManifests } from '../../src/tenants/manifests.js';
import { tenantEnv, tenantFleetEnv } from '../../src/tenants/tenants.js';
import { platformVars } from '../../src/vars/catalogue.js';
import { clusterConfig, rawCluster, rawPlatform } from '../helpers/config.js';
import { substituteStream } from '../helpers/flux-envsubst.js';
import { tenantSpec } from '../helpers/tenants.js';

const spec = tenantSpec('team-a', {
  namespaces: ['team-a', 'team-a-jobs'],
  repo: 'ssh://git@git.example.com/a/$weird.git',
});

function cluster(name: string, tags: string[]) {
  const raw = rawCluster(name);
  raw.istio = { tags };
  return validateConfig(rawPlatform(raw), 't').clusters[0]!;
}
const files = (c: ReturnType<typeof cluster>) => {
  const from = { cluster: c, outputs: () => ({}) };
  return tenantFiles(spec.name, tenantManifests(spec, tenantFleetEnv(from))).files;
};

describe("tenants' fleet files", () => {
  it('name the Istio tag as ${istio_revision_tag}: the same folder for clusters with different tags', () => {
    const a = files(cluster('east', ['prod-stable']));
    const b = files(cluster('west', ['canary']));
    const ns = a.find((f) => f.path.endsWith('namespaces.yaml'));
    expect(ns?.content).toContain('istio.io/rev: "${istio_revision_tag}"');
    expect(b.map((f) => f.content)).toEqual(a.map((f) => f.content));
  });

  it('substitute back to exactly what add-tenant --apply applies, literal dollars included', () => {
    const c = cluster('east', ['prod-stable']);
    const vars = platformVars({ cluster: c, outputs: () => ({}) });
    const applied = files(c)
      .filter((f) => !f.path.endsWith('kustomization.yaml'))
      .flatMap((f) => substituteStream(f.content, vars, { strict: true }));
    const m = tenantManifests(spec, tenantEnv(c));
    expect(applied).toEqual([...m.namespaces, ...m.rbac, ...m.policies, ...m.sync, ...m.tls]);
    const first = applied[0] as KubeObject;
    expect(first.metadata.labels?.['istio.io/rev']).toBe('prod-stable');
  });

  it('are applied by a Kustomization that substitutes from flux-system/platform-vars', () => {
    const index = tenantsIndexFile(clusterConfig('demo'), [spec.name]);
    const [ks] = substituteStream(index.content, { x: 'y' }) as (KubeObject & { spec: Record<string, unknown> })[];
    expect(ks?.metadata).toMatchObject({ name: 'tenant-team-a', namespace: 'flux-system' });
    expect(ks?.spec.postBuild).toEqual({ substituteFrom: [{ kind: 'ConfigMap', name: 'platform-vars' }] });
  });
});
