/**
 * Vault chart values, rendered with the lab's real helm
 * against the upstream chart (../shared/fixtures/charts/vault 0.34.1) to prove the keys land where the chart
 * reads them: StatefulSet replicas, anti-affinity and volume class, the ServiceAccount annotation, the HCL ConfigMap.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { vaultValues } from '../../src/vault/values.js';
import { labCluster, VAULT_CHART } from '../helpers/helm-context.js';
import { lab } from '../lab/env.js';

const env = lab();
const alias = 'alias/platctl-demo-vault';
const roleArn = 'arn:aws:iam::123456789012:role/platctl-demo-vault';
const meshed = labCluster(env, 'vault-values', {
  istio: { version: '1.30.3', tags: ['prod-stable'], namespaces: ['vault'] },
});
const plain = labCluster(env, 'vault-values', { images: { mirror: 'mirror.example.com' } });

type Obj = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; [k: string]: unknown };
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'platctl-vault-values-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function render(values: unknown): Promise<Obj[]> {
  const file = path.join(tmp, 'values.json');
  await writeFile(file, JSON.stringify(values));
  const r = await execa(env.bins.helm, ['template', 'vault', VAULT_CHART, '-n', 'vault', '-f', file]);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

describe('vault values, rendered by the upstream chart', () => {
  it('renders HA raft with 3 replicas, anti-affinity, the IRSA annotation and the HCL', async () => {
    const objs = await render(vaultValues({ cluster: meshed, kmsAlias: alias, roleArn }));
    const sts = objs.find((o) => o.kind === 'StatefulSet') as unknown as {
      spec: {
        replicas: number;
        template: {
          spec: {
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  topologyKey: string;
                  labelSelector: { matchLabels: Record<string, string> };
                }[];
              };
            };
            containers: { image: string; env: { name: string; value?: string }[] }[];
          };
        };
        volumeClaimTemplates: { metadata: { name: string }; spec: { storageClassName?: string } }[];
      };
    };
    expect(sts.spec.replicas).toBe(3);
    // Raft's volumes name the storage step's class: EKS 1.30+ has no default one.
    expect(sts.spec.volumeClaimTemplates).toEqual([
      expect.objectContaining({
        metadata: { name: 'data' },
        spec: expect.objectContaining({ storageClassName: 'gp3' }),
      }),
    ]);
    const anti = sts.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
    expect(anti?.topologyKey).toBe('kubernetes.io/hostname');
    expect(anti?.labelSelector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'vault',
      'app.kubernetes.io/instance': 'vault',
      component: 'server',
    });
    const c = sts.spec.template.spec.containers[0];
    expect(c?.env).toContainEqual({ name: 'VAULT_ADDR', value: 'http://127.0.0.1:8200' });
    expect(c?.env.some((e) => e.name === 'VAULT_RAFT_NODE_ID')).toBe(true);
    expect(c?.image).toMatch(/^hashicorp\/vault:/);
    const sa = objs.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'vault');
    expect(sa?.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': roleArn });
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'vault-config') as unknown as {
      data: Record<string, string>;
    };
    const hcl = cm.data['extraconfig-from-values.hcl'] ?? '';
    expect(hcl).toContain(`kms_key_id = "${alias}"`);
    expect(hcl).toContain('leader_api_addr = "http://vault-2.vault-internal:8200"');
    expect(hcl).toContain('disable_mlock = true');
  });

  it('outside the mesh mounts the TLS Secret, talks https, and pulls every image from the mirror', async () => {
    const objs = await render(vaultValues({ cluster: plain, kmsAlias: alias, roleArn }));
    const sts = objs.find((o) => o.kind === 'StatefulSet') as unknown as {
      spec: {
        template: {
          spec: {
            volumes: { name: string; secret?: { secretName: string } }[];
            containers: { image: string; env: { name: string; value?: string }[] }[];
          };
        };
      };
    };
    const spec = sts.spec.template.spec;
    expect(spec.volumes).toContainEqual(
      expect.objectContaining({ secret: expect.objectContaining({ secretName: 'vault-tls' }) }),
    );
    expect(spec.containers[0]?.env).toContainEqual({ name: 'VAULT_ADDR', value: 'https://127.0.0.1:8200' });
    expect(spec.containers[0]?.env).toContainEqual({
      name: 'VAULT_CACERT',
      value: '/vault/userconfig/vault-tls/ca.crt',
    });
    const images = JSON.stringify(objs).match(/"image":"[^"]+"/g) ?? [];
    expect(images.length).toBeGreaterThan(1);
    for (const i of images) expect(i).toMatch(/"image":"mirror\.example\.com\/hashicorp\//);
  });
});
