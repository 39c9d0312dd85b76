/** Vault's HCL and the values summary from config (the chart rendering with real helm is in values.lab.test.ts). */
import { describe, expect, it } from 'vitest';
import { peerAddress, vaultHcl, vaultMeshed, vaultValuesSummary } from '../../src/vault/values.js';
import { helmCluster, VAULT_CHART } from '../helpers/config.js';

const alias = 'alias/platctl-demo-vault';
const roleArn = 'arn:aws:iam::123456789012:role/platctl-demo-vault';
const meshed = helmCluster('vault-values', {
  istio: { version: '1.30.3', tags: ['prod-stable'], namespaces: ['vault'] },
});
const plain = helmCluster('vault-values', { images: { mirror: 'mirror.example.com' } });

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
    const five = helmCluster('vault-values', {
      vault: { chart: VAULT_CHART, replicas: 5, keyShares: 3, keyThreshold: 2 },
    });
    const hcl = vaultHcl({ cluster: five });
    expect(hcl.match(/retry_join \{/g)).toHaveLength(5);
    expect(hcl).not.toContain('seal "awskms"');
    expect(vaultValuesSummary({ cluster: five }).join('\n')).toMatch(/seal: shamir/);
  });
});

describe('vault values summary', () => {
  it('summarises the values for --dry-run without anything secret', () => {
    const lines = vaultValuesSummary({ cluster: meshed, kmsAlias: alias, roleArn });
    expect(lines.join('\n')).toMatch(/3 replicas, setNodeId, retry_join vault-0, vault-1, vault-2/);
    expect(lines.join('\n')).toMatch(/anti-affinity: required/);
    expect(lines.join('\n')).toContain(`seal: awskms ${alias} (us-east-1)`);
    expect(lines.join('\n')).toContain(roleArn);
    expect(lines.join('\n')).toMatch(/TLS: Istio mTLS/);
  });
});
