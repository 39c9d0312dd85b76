/** Every ARN and endpoint platctl builds, per partition; isolated regions refused at config time. */
import { describe, expect, it } from 'vitest';
import { desiredGrants } from '../../src/aws/eks-access.js';
import { stsEndpoint } from '../../src/aws/eks-token.js';
import { irsaParams, irsaRoles, oidcProviderArn, roleArn } from '../../src/aws/irsa.js';
import { keyArn, keyPolicy } from '../../src/aws/kms-ops.js';
import { eksAccessPolicyArn, isIsolatedRegion, type Partition, partitionOf } from '../../src/aws/partition.js';
import { validateConfig } from '../../src/config/load.js';
import { isPlatctlError } from '../../src/errors.js';
import { ecrRegistryHost } from '../../src/registry/manifests.js';
import { rawCluster, rawPlatform, withField } from '../helpers/config.js';

const cases: { partition: Partition; region: string; suffix: string }[] = [
  { partition: 'aws', region: 'eu-west-1', suffix: 'amazonaws.com' },
  { partition: 'aws-cn', region: 'cn-north-1', suffix: 'amazonaws.com.cn' },
  { partition: 'aws-us-gov', region: 'us-gov-west-1', suffix: 'amazonaws.com' },
];

const clusterIn = (region: string, access: Record<string, unknown> = {}) => {
  const raw = withField(withField(rawCluster('p'), ['aws', 'region'], region), ['access'], access);
  const c = validateConfig(rawPlatform(raw), 'partition test').clusters[0];
  if (!c) throw new Error('no cluster');
  return c;
};

/** Runs `fn`, which must throw a PlatctlError of `code` whose message (or hint) mentions `text`. */
function expectPlatctlError(fn: () => unknown, code: string, text: string): void {
  try {
    fn();
  } catch (err) {
    if (!isPlatctlError(err)) throw err;
    expect(err.code).toBe(code);
    expect(`${err.message}\n${err.hint ?? ''}`).toContain(text);
    return;
  }
  throw new Error(`expected ${code}`);
}

/** Every string in a value that looks like an ARN. */
const arnsIn = (v: unknown): string[] => JSON.stringify(v).match(/arn:[^"]+/g) ?? [];

describe.each(cases)('partition $partition ($region)', ({ partition, region, suffix }) => {
  it('is the partition of the region', () => {
    expect(partitionOf(region)).toBe(partition);
  });

  it('builds IAM role and OIDC provider ARNs in it', () => {
    const p = irsaParams(clusterIn(region));
    expect(p.partition).toBe(partition);
    expect(roleArn(p, 'vault')).toBe(`arn:${partition}:iam::123456789012:role/platctl/p/eks-vault-p`);
    expect(oidcProviderArn(p, `https://oidc.eks.${region}.${suffix}/id/A`)).toBe(
      `arn:${partition}:iam::123456789012:oidc-provider/oidc.eks.${region}.${suffix}/id/A`,
    );
  });

  it('writes every IRSA policy resource in it', () => {
    const c = clusterIn(region);
    const p = irsaParams(c);
    for (const role of irsaRoles(c)) {
      const arns = arnsIn(role.policy(p));
      expect(arns.length, role.service).toBeGreaterThan(0);
      for (const a of arns) expect(a, role.service).toMatch(new RegExp(`^arn:${partition}:`));
    }
    const ecr = irsaRoles(c).find((r) => r.key === 'ecrCredentialsSync');
    expect(arnsIn(ecr?.policy(p))).toEqual([`arn:${partition}:ecr:${region}:123456789012:repository/*`]);
  });

  it('writes the KMS key policy and key ARNs in it', () => {
    const c = clusterIn(region);
    expect(keyArn(c, 'k1')).toBe(`arn:${partition}:kms:${region}:123456789012:key/k1`);
    const policy = keyPolicy({ partition, accountId: '123456789012' });
    expect(policy.Statement[0]?.Principal).toEqual({ AWS: `arn:${partition}:iam::123456789012:root` });
  });

  it('grants the EKS access policies of the partition, and only to principals of the partition', () => {
    const admin = `arn:${partition}:iam::123456789012:role/ops`;
    const viewer = `arn:${partition}:iam::123456789012:user/audit`;
    const grants = desiredGrants(clusterIn(region, { admins: [admin], readOnly: [viewer] }));
    expect(grants.map((g) => g.policy)).toEqual([
      `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
      `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSViewPolicy`,
    ]);
    expect(eksAccessPolicyArn(partition, 'AmazonEKSAdminPolicy')).toBe(
      `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy`,
    );
    const other = partition === 'aws' ? 'aws-cn' : 'aws';
    const foreign = `arn:${other}:iam::123456789012:role/ops`;
    expectPlatctlError(() => desiredGrants(clusterIn(region, { admins: [foreign] })), 'CONFIG_INVALID', foreign);
  });

  it('signs EKS tokens against the STS endpoint and pulls from the ECR host of the partition', () => {
    expect(stsEndpoint(region, {}).host).toBe(`sts.${region}.${suffix}`);
    expect(ecrRegistryHost('123456789012', region)).toBe(`123456789012.dkr.ecr.${region}.${suffix}`);
  });
});

describe('isolated partitions', () => {
  it.each(['us-iso-east-1', 'us-isob-east-1', 'us-isof-south-1', 'eu-isoe-west-1'])(
    '%s is refused at config time, naming the field',
    (region) => {
      expect(isIsolatedRegion(region)).toBe(true);
      expectPlatctlError(
        () => validateConfig(rawPlatform(withField(rawCluster('p'), ['aws', 'region'], region)), 'platform.yaml'),
        'CONFIG_INVALID',
        'clusters[0].aws.region',
      );
    },
  );

  it('is not mistaken for a region whose name merely contains "iso"', () => {
    for (const r of ['us-east-1', 'us-gov-east-1', 'cn-northwest-1']) expect(isIsolatedRegion(r)).toBe(false);
  });
});
