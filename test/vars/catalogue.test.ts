/**
 * The variable set: every name Flux accepts and the docs list, each value taken from the step that makes the
 * thing (or the config), a variable left out until its step has recorded it, and nothing a secret.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { VAR_NAME } from '../../src/flux/substitution.js';
import type { StepOutputs } from '../../src/state/types.js';
import { PLATFORM_VAR_CATALOGUE, platformVars, unsetVars } from '../../src/vars/catalogue.js';
import { clusterConfig, rawCluster, rawPlatform } from '../helpers/config.js';

const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/ABC';
const role = (n: string) => `arn:aws:iam::123456789012:role/platctl/demo/eks-${n}-demo`;
/** What a complete bootstrap of `demo` records. */
const FULL: Record<string, StepOutputs> = {
  cluster: {
    clusterName: 'demo-eks',
    endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com',
    oidcIssuer: ISSUER,
    vpcId: 'vpc-0abc',
    clusterAdditionalSecurityGroupId: 'sg-0c',
    nodeSharedSecurityGroupId: 'sg-0n',
    privateSubnetIds: ['subnet-p1', 'subnet-p2'],
    publicSubnetIds: ['subnet-u1', 'subnet-u2'],
  },
  iam: {
    oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC',
    vaultRoleArn: role('vault'),
    ecrCredentialsSyncRoleArn: role('ecr-credentials-sync'),
    certManagerRoleArn: role('cert-manager'),
    externalDnsRoleArn: role('external-dns'),
    ebsCsiRoleArn: role('ebs-csi'),
    awsLoadBalancerControllerRoleArn: role('aws-load-balancer-controller'),
  },
  kms: {
    vaultKeyId: 'k-v',
    vaultKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k-v',
    vaultKeyAlias: 'alias/platctl/demo/vault',
    ebsKeyId: 'k-e',
    ebsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k-e',
    ebsKeyAlias: 'alias/platctl/demo/ebs',
  },
  registry: { ecrCredentialsSyncRoleArn: role('ecr-credentials-sync') },
  istio: { revision: '1-30-3', tags: ['prod-stable', 'canary'] },
  vault: { release: 'vault', namespace: 'vault' },
};
const source = (outputs: Record<string, StepOutputs>, cluster = clusterConfig('demo')) => ({
  cluster,
  outputs: (id: string) => outputs[id] ?? {},
});

describe('the cluster variables', () => {
  it('are named as Flux requires, once each', () => {
    const names = PLATFORM_VAR_CATALOGUE.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(VAR_NAME);
  });

  it('take each value from the config or the step that makes the thing', () => {
    const vars = platformVars(source(FULL));
    expect(vars).toMatchObject({
      cluster_name: 'demo',
      aws_account_id: '123456789012',
      aws_partition: 'aws',
      aws_region: 'us-east-1',
      aws_cluster_name: 'demo-eks',
      aws_cluster_oidc_issuer: ISSUER,
      aws_vpc_id: 'vpc-0abc',
      aws_private_subnet_ids: 'subnet-p1,subnet-p2',
      aws_public_subnet_ids: 'subnet-u1,subnet-u2',
      aws_cluster_additional_security_group_id: 'sg-0c',
      aws_node_shared_security_group_id: 'sg-0n',
      aws_oidc_provider_arn: FULL.iam?.oidcProviderArn,
      vault_iam_role_arn: role('vault'),
      vault_namespace: 'vault',
      vault_service_account: 'vault',
      cert_manager_iam_role_arn: role('cert-manager'),
      cert_manager_namespace: 'cert-manager',
      aws_ebs_csi_driver_iam_role_arn: role('ebs-csi'),
      aws_ebs_csi_driver_service_account: 'ebs-csi-controller-sa',
      aws_load_balancer_controller_iam_role_arn: role('aws-load-balancer-controller'),
      ecr_credentials_sync_namespace: 'flux-system',
      ebs_kms_key_arn: 'arn:aws:kms:us-east-1:123456789012:key/k-e',
      ebs_kms_key_alias: 'alias/platctl/demo/ebs',
      ebs_kms_key_alias_arn: 'arn:aws:kms:us-east-1:123456789012:alias/platctl/demo/ebs',
      vault_kms_key_alias_arn: 'arn:aws:kms:us-east-1:123456789012:alias/platctl/demo/vault',
      ecr_registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      ecr_credentials_secret: 'ecr-credentials',
      istio_revision: '1-30-3',
      istio_revision_tags: 'prod-stable,canary',
      istio_revision_tag: 'prod-stable',
      istio_ingress_namespace: 'istio-ingress',
      istio_gateway: 'istio-ingress/platform-gateway',
      // Vault is not in the mesh by default: it serves TLS itself.
      vault_addr: 'https://vault.vault.svc:8200',
    });
    expect(vars.image_mirror).toBeUndefined();
    expect(unsetVars(source(FULL))).toEqual(new Map());
  });

  it('follow the partition, the mesh and the mirror', () => {
    const raw = rawCluster('cn');
    raw.aws = { accountId: '123456789012', region: 'cn-north-1' };
    const mirror = '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/mirror';
    raw.images = { mirror };
    raw.istio = { namespaces: ['vault'], tags: [] };
    const cluster = validateConfig(rawPlatform(raw), 't').clusters[0]!;
    const vars = platformVars(source({ ...FULL, istio: { revision: '1-30-3' } }, cluster));
    expect(vars.aws_partition).toBe('aws-cn');
    expect(vars.ecr_registry).toBe('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn');
    expect(vars.ebs_kms_key_alias_arn).toBe('arn:aws-cn:kms:cn-north-1:123456789012:alias/platctl/demo/ebs');
    expect(vars.image_mirror).toBe(mirror);
    expect(vars.vault_addr).toBe('http://vault.vault.svc:8200');
    // No tags: namespaces point at the revision itself.
    expect(vars.istio_revision_tag).toBe('1-30-3');
    expect(vars.istio_revision_tags).toBeUndefined();
  });

  it('leave out what no step has recorded yet, and say which step fills it', () => {
    const vars = platformVars(source({ cluster: FULL.cluster ?? {} }));
    expect(vars.aws_vpc_id).toBe('vpc-0abc');
    expect(vars).not.toHaveProperty('cert_manager_iam_role_arn');
    expect(vars).not.toHaveProperty('ebs_kms_key_arn');
    expect(vars).not.toHaveProperty('vault_addr');
    const unset = unsetVars(source({ cluster: FULL.cluster ?? {} }));
    expect(unset.get('iam')).toContain('cert_manager_iam_role_arn');
    expect(unset.get('kms')).toEqual([
      'vault_kms_key_id',
      'vault_kms_key_arn',
      'vault_kms_key_alias',
      'vault_kms_key_alias_arn',
      'ebs_kms_key_id',
      'ebs_kms_key_arn',
      'ebs_kms_key_alias',
      'ebs_kms_key_alias_arn',
    ]);
    expect(unset.get('vault')).toEqual(['vault_addr']);
    expect(unset.has('config')).toBe(false);
  });

  it('hold single-line values only (Flux drops newlines from a variable)', () => {
    for (const [k, v] of Object.entries(platformVars(source(FULL)))) expect(v, k).not.toMatch(/\n/);
  });

  it('are each listed in docs/commands/status.md with the step that fills them', () => {
    const doc = readFileSync('docs/commands/status.md', 'utf8');
    for (const v of PLATFORM_VAR_CATALOGUE) {
      const step = v.step === 'config' ? 'platform.yaml' : `\`${v.step}\``;
      expect(doc, v.name).toMatch(new RegExp(`^\\| \`${v.name}\` \\| ${step.replace(/[.]/g, '\\.')} \\|`, 'm'));
    }
  });
});
