/**
 * Vault chart values from config. Besides the values themselves, they are rendered with the lab's real helm
 * against the upstream chart (../shared/fixtures/charts/vault 0.34.1) to prove the keys land where the chart
 * reads them: StatefulSet replicas and anti-affinity, the ServiceAccount annotation, the HCL ConfigMap.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { peerAddress, vaultHcl, vaultMeshed, vaultValues, vaultValuesSummary } from '../../src/vault/values.js';
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

describe('vault HCL', () => {
  it('has raft storage with a retry_join per peer, the awskms seal and TLS off when meshed', () => {
    const hcl = vaultHcl({ cluster: meshed, kmsAlias: alias });
    expect(vaultMeshed(meshed)).toBe(true);
    expect(hcl).toMatch(/storage "raft" \{\n {2}path = "\/vault\/data"/);
    const joins = [...hcl.matchAll(/leader_api_addr = "([^"]+)"/g)].map((m) => m[1]);
    expect(joins).toEqual([
      'http://vault-0.vault-internal:8200',
      'http://vault-1.vault-internal:8200',
      'http://vault-2.vault-internal:8200',
    ]);
    expect(hcl).toContain(`seal "awskms" {\n  region = "us-east-1"\n  kms_key_id = "${alias}"\n}`);
    expect(hcl).toContain('tls_disable = 1');
    expect(hcl).not.toContain('tls_cert_file');
  });

  it('serves TLS itself outside the mesh, and joins peers over https with the CA', () => {
    const hcl = vaultHcl({ cluster: plain, kmsAlias: alias });
    expect(vaultMeshed(plain)).toBe(false);
    expect(hcl).toContain('tls_cert_file = "/vault/userconfig/vault-tls/tls.crt"');
    expect(hcl).toContain('tls_key_file = "/vault/userconfig/vault-tls/tls.key"');
    expect(hcl).not.toContain('tls_disable');
    expect(hcl.match(/leader_ca_cert_file = "\/vault\/userconfig\/vault-tls\/ca.crt"/g)).toHaveLength(3);
    expect(peerAddress(1, true)).toBe('https://vault-1.vault-internal:8200');
  });

  it('follows vault.replicas, and falls back to Shamir (no seal stanza) without a KMS alias', () => {
    const five = labCluster(env, 'vault-values', {
      vault: { chart: VAULT_CHART, replicas: 5, keyShares: 3, keyThreshold: 2 },
    });
    const hcl = vaultHcl({ cluster: five });
    expect(hcl.match(/retry_join \{/g)).toHaveLength(5);
    expect(hcl).not.toContain('seal "awskms"');
    expect(vaultValuesSummary({ cluster: five }).join('\n')).toMatch(/seal: shamir/);
  });
});

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
      };
    };
    expect(sts.spec.replicas).toBe(3);
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

  it('summarises the values for --dry-run without anything secret', () => {
    const lines = vaultValuesSummary({ cluster: meshed, kmsAlias: alias, roleArn });
    expect(lines.join('\n')).toMatch(/3 replicas, setNodeId, retry_join vault-0, vault-1, vault-2/);
    expect(lines.join('\n')).toMatch(/anti-affinity: required/);
    expect(lines.join('\n')).toContain(`seal: awskms ${alias} (us-east-1)`);
    expect(lines.join('\n')).toContain(roleArn);
    expect(lines.join('\n')).toMatch(/TLS: Istio mTLS/);
  });
});
