/** The IRSA naming convention and policy documents, without AWS. */
import { describe, expect, it } from 'vitest';
import { planIam } from '../../src/aws/iam-ops.js';
import { irsaParams, irsaRoles, oidcProviderArn, ROLE_NAME_MAX, roleArn, roleName } from '../../src/aws/irsa.js';
import { validateConfig } from '../../src/config/load.js';

const config = (name: string, extra: Record<string, unknown> = {}) => {
  const c = validateConfig(
    {
      clusters: [
        {
          name,
          aws: { accountId: '123456789012', region: 'eu-west-1' },
          kubernetes: { version: '1.34' },
          fleet: { url: 'ssh://git@example.com/fleet.git' },
          ...extra,
        },
      ],
    },
    'irsa test',
  ).clusters[0];
  if (!c) throw new Error('no cluster');
  return c;
};

describe('role naming', () => {
  it('is eks-<service>-<cluster> under /platctl/<cluster>/', () => {
    expect(roleName('vault', 'prod')).toBe('eks-vault-prod');
    expect(roleArn(irsaParams(config('prod')), 'vault')).toBe(
      'arn:aws:iam::123456789012:role/platctl/prod/eks-vault-prod',
    );
  });

  it('stays within 64 characters, stable and distinct for long cluster names', () => {
    const a = `team-payments-${'x'.repeat(60)}-a`;
    const b = `team-payments-${'x'.repeat(60)}-b`;
    const na = roleName('aws-load-balancer-controller', a);
    expect(na.length).toBe(ROLE_NAME_MAX);
    expect(na.startsWith('eks-aws-load-balancer-controller-team-payments-')).toBe(true);
    expect(roleName('aws-load-balancer-controller', a)).toBe(na);
    expect(roleName('aws-load-balancer-controller', b)).not.toBe(na);
    expect(na).toMatch(/^[\w+=,.@-]+$/);
  });

  it('uses the partition of the region in every ARN', () => {
    expect(
      oidcProviderArn({ partition: 'aws-cn', accountId: '1' }, 'https://oidc.eks.cn-north-1.amazonaws.com.cn/id/A/'),
    ).toBe('arn:aws-cn:iam::1:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/A');
  });
});

describe('policies', () => {
  it('never names a KMS alias in Resource; key use goes through kms:ResourceAliases', () => {
    const c = config('demo');
    const p = irsaParams(c);
    for (const role of irsaRoles(c))
      for (const st of role.policy(p).Statement) {
        expect(JSON.stringify(st.Resource ?? ''), `${role.service} ${st.Sid}`).not.toContain('alias/');
        if (JSON.stringify(st.Action).includes('kms:'))
          expect(st.Condition?.['ForAnyValue:StringEquals']?.['kms:ResourceAliases'], st.Sid).toMatch(
            /^alias\/platctl\/demo\//,
          );
      }
  });

  it('follows vault.kmsAlias and vault.namespace into the vault role', () => {
    const c = config('demo', { vault: { kmsAlias: 'alias/custom/unseal', namespace: 'secrets' } });
    const plan = planIam(c, 'https://oidc.example/id/Z');
    const vault = plan.roles.find((r) => r.spec.key === 'vault');
    expect(vault?.policy.Statement[0]?.Condition).toEqual({
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/custom/unseal' },
    });
    expect(vault?.trust.Statement[0]?.Condition?.StringEquals?.['oidc.example/id/Z:sub']).toBe(
      'system:serviceaccount:secrets:vault',
    );
  });

  it('lets the ECR sync role pull from the registry its Secret is for, and only that one', () => {
    const pullOf = (c: ReturnType<typeof config>) => {
      const role = irsaRoles(c).find((r) => r.key === 'ecrCredentialsSync');
      return role?.policy(irsaParams(c)).Statement ?? [];
    };
    const [token, pull] = pullOf(config('demo'));
    expect(token).toMatchObject({ Action: 'ecr:GetAuthorizationToken', Resource: '*' });
    expect(pull?.Action).toEqual(
      expect.arrayContaining(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability']),
    );
    expect(pull?.Resource).toBe('arn:aws:ecr:eu-west-1:123456789012:repository/*');
    // An ECR mirror in another account and region: the grant follows the mirror's registry.
    const mirrored = config('demo', { images: { mirror: '210987654321.dkr.ecr.us-west-2.amazonaws.com/mirror' } });
    expect(pullOf(mirrored)[1]?.Resource).toBe('arn:aws:ecr:us-west-2:210987654321:repository/*');
    // A mirror that is not ECR: the Secret is for the account's own registry.
    const other = config('demo', { images: { mirror: 'harbor.example.com/mirror' } });
    expect(pullOf(other)[1]?.Resource).toBe('arn:aws:ecr:eu-west-1:123456789012:repository/*');
  });

  it('has one role per controller, with distinct names and service accounts', () => {
    const plan = planIam(config('demo'), 'https://oidc.example/id/Z');
    expect(plan.roles.map((r) => r.spec.key)).toEqual([
      'vault',
      'ecrCredentialsSync',
      'certManager',
      'externalDns',
      'ebsCsi',
      'awsLoadBalancerController',
    ]);
    expect(new Set(plan.roles.map((r) => r.name)).size).toBe(6);
    expect(new Set(plan.roles.map((r) => `${r.spec.namespace}/${r.spec.serviceAccount}`)).size).toBe(6);
  });
});
