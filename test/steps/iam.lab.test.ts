/**
 * The iam step against moto (the lab's AWS): the OIDC provider and the six IRSA roles are created with the right
 * trust, a re-run writes nothing, tampering is reported precisely and repaired, creates run in parallel within
 * the bound, and destroy removes exactly what platctl made. Documents are read back from moto with a separate,
 * uncounted client and parsed here by hand (not with src/aws/policy.ts), so the assertions do not trust the code.
 */
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  DeleteRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListRolesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/clients/aws.js';
import { applyIam, destroyIam, iamStep } from '../../steps/iam.js';
import { awsCluster, awsContext, inFlight, uniqueCluster, useLabAws, withDeep } from '../helpers/aws-context.js';
import { lab } from '../lab/env.js';

const env = lab();
useLabAws(env);
const raw = () => createAwsClients({ region: env.region }).iam();

/** IAM returns URL-encoded JSON from GetRole/GetRolePolicy and (in moto) plain JSON from ListRoles. */
const parse = (doc: string | undefined) =>
  JSON.parse(doc?.startsWith('{') ? doc : decodeURIComponent(doc ?? '')) as {
    Statement: Array<{
      Principal?: unknown;
      Action?: unknown;
      Resource?: unknown;
      Condition?: Record<string, Record<string, unknown>>;
    }>;
  };

const EXPECTED = [
  { key: 'vault', service: 'vault', sa: 'system:serviceaccount:vault:vault' },
  {
    key: 'ecrCredentialsSync',
    service: 'ecr-credentials-sync',
    sa: 'system:serviceaccount:flux-system:ecr-credentials-sync',
  },
  { key: 'certManager', service: 'cert-manager', sa: 'system:serviceaccount:cert-manager:cert-manager' },
  { key: 'externalDns', service: 'external-dns', sa: 'system:serviceaccount:external-dns:external-dns' },
  { key: 'ebsCsi', service: 'ebs-csi', sa: 'system:serviceaccount:kube-system:ebs-csi-controller-sa' },
  {
    key: 'awsLoadBalancerController',
    service: 'aws-load-balancer-controller',
    sa: 'system:serviceaccount:kube-system:aws-load-balancer-controller',
  },
];

function setup(prefix: string) {
  const name = uniqueCluster(prefix);
  const host = `oidc.eks.us-east-1.amazonaws.com/id/${name.replace(/-/g, '').toUpperCase()}`;
  const cluster = awsCluster(env, name);
  const outputs = { cluster: { oidcIssuer: `https://${host}` } };
  const providerArn = `arn:aws:iam::123456789012:oidc-provider/${host}`;
  return {
    name,
    host,
    cluster,
    outputs,
    providerArn,
    fresh: (deep = true) => awsContext(cluster, { outputs, deep }),
  };
}

async function roleNames(iam: IAMClient, name: string): Promise<string[]> {
  const r = await iam.send(new ListRolesCommand({ PathPrefix: `/platctl/${name}/` }));
  return (r.Roles ?? []).map((x) => x.RoleName ?? '').sort();
}

describe('iam step against moto', () => {
  const s = setup('iam');
  afterAll(async () => {
    await destroyIam(s.fresh().ctx);
  });

  it('reports absent without any AWS call while the cluster has no OIDC issuer', async () => {
    const t = awsContext(s.cluster, { outputs: {} });
    const check = await iamStep.check(t.ctx);
    expect(check.status).toBe('absent');
    expect(check.detail).toContain('oidcIssuer');
    expect(t.aws.counts.calls).toEqual([]);
  });

  it('creates the OIDC provider and one role per controller, each trusting only its service account', async () => {
    const t = s.fresh();
    expect((await iamStep.check(t.ctx)).status).toBe('absent');
    const out = (await iamStep.apply(t.ctx)) ?? {};
    const iam = await raw();

    const provider = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: s.providerArn }));
    expect(provider.ClientIDList).toEqual(['sts.amazonaws.com']);
    expect(provider.Tags).toContainEqual({ Key: 'platctl.io/cluster', Value: s.name });
    expect(out.oidcProviderArn).toBe(s.providerArn);

    expect(await roleNames(iam, s.name)).toEqual(EXPECTED.map((e) => `eks-${e.service}-${s.name}`).sort());
    for (const e of EXPECTED) {
      const role = (await iam.send(new GetRoleCommand({ RoleName: `eks-${e.service}-${s.name}` }))).Role;
      expect(out[`${e.key}RoleArn`], e.key).toBe(role?.Arn);
      expect(role?.Tags).toContainEqual({ Key: 'platctl.io/cluster', Value: s.name });
      expect(role?.Tags).toContainEqual({ Key: 'platctl.io/step', Value: 'iam' });
      const trust = parse(role?.AssumeRolePolicyDocument);
      expect(trust.Statement).toHaveLength(1);
      const st = trust.Statement[0] ?? {};
      expect(st.Principal).toEqual({ Federated: s.providerArn });
      expect(st.Action).toBe('sts:AssumeRoleWithWebIdentity');
      expect(st.Condition).toEqual({
        StringEquals: { [`${s.host}:sub`]: e.sa, [`${s.host}:aud`]: 'sts.amazonaws.com' },
      });
    }
  });

  it('grants the vault key through kms:ResourceAliases, never an alias in Resource', async () => {
    const iam = await raw();
    const vault = await iam.send(new GetRolePolicyCommand({ RoleName: `eks-vault-${s.name}`, PolicyName: 'platctl' }));
    const [st] = parse(vault.PolicyDocument).Statement;
    expect(st?.Action).toEqual(['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey']);
    expect(st?.Resource).toBe('arn:aws:kms:us-east-1:123456789012:key/*');
    expect(JSON.stringify(st?.Resource)).not.toContain('alias');
    expect(st?.Condition).toEqual({
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': `alias/platctl/${s.name}/vault` },
    });
    const ecr = await iam.send(
      new GetRolePolicyCommand({ RoleName: `eks-ecr-credentials-sync-${s.name}`, PolicyName: 'platctl' }),
    );
    const [token, pull] = parse(ecr.PolicyDocument).Statement;
    expect(token).toMatchObject({ Action: 'ecr:GetAuthorizationToken', Resource: '*' });
    expect(pull?.Action).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:GetDownloadUrlForLayer',
      'ecr:BatchGetImage',
    ]);
    expect(pull?.Resource).toBe('arn:aws:ecr:us-east-1:123456789012:repository/*');
  });

  it('a second check and apply make zero AWS writes; the cheap check is one read', async () => {
    const t = s.fresh();
    const deep = await iamStep.check(t.ctx);
    expect(deep.status, deep.detail).toBe('up-to-date');
    expect(deep.outputs?.vaultRoleArn).toMatch(/role\/platctl\/.+\/eks-vault-/);
    const before = t.aws.counts.reads;
    const cheap = await iamStep.check(withDeep(t, false));
    expect(cheap.status, cheap.detail).toBe('up-to-date');
    expect(t.aws.counts.reads - before).toBe(1);
    await iamStep.apply(t.ctx);
    expect(t.aws.counts.writes, t.aws.counts.calls.join(' ')).toBe(0);
  });

  it('reports a tampered trust policy naming the role, and apply repairs only that', async () => {
    const iam = await raw();
    const victim = `eks-vault-${s.name}`;
    const evil = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AssumeFromServiceAccount',
          Effect: 'Allow',
          Principal: { Federated: s.providerArn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              [`${s.host}:sub`]: 'system:serviceaccount:default:intruder',
              [`${s.host}:aud`]: 'sts.amazonaws.com',
            },
          },
        },
      ],
    };
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: victim, PolicyDocument: JSON.stringify(evil) }));

    const t = s.fresh();
    const cheap = await iamStep.check(withDeep(t, false));
    expect(cheap.status).toBe('drift');
    expect(cheap.detail).toContain(victim);
    const deep = await iamStep.check(t.ctx);
    expect(deep.status).toBe('drift');
    expect(deep.changes).toHaveLength(1);
    expect(deep.changes?.[0]).toContain(`IAM role ${victim} trust policy`);
    expect(deep.changes?.[0]).toContain('system:serviceaccount:default:intruder');
    expect(deep.changes?.[0]).toContain('system:serviceaccount:vault:vault');

    const writesBefore = t.aws.counts.writes;
    await iamStep.apply(t.ctx);
    expect(t.aws.counts.calls.filter((c) => !/:(Get|List)/.test(c))).toEqual(['iam:UpdateAssumeRolePolicy']);
    expect(t.aws.counts.writes - writesBefore).toBe(1);
    const fixed = parse((await iam.send(new GetRoleCommand({ RoleName: victim }))).Role?.AssumeRolePolicyDocument);
    expect(fixed.Statement[0]?.Condition?.StringEquals?.[`${s.host}:sub`]).toBe('system:serviceaccount:vault:vault');
    expect((await iamStep.check(s.fresh().ctx)).status).toBe('up-to-date');
  });

  it('the deep check reports a tampered inline policy precisely, and apply puts back only that policy', async () => {
    const iam = await raw();
    const victim = `eks-vault-${s.name}`;
    const want = decodeURIComponent(
      (await iam.send(new GetRolePolicyCommand({ RoleName: victim, PolicyName: 'platctl' }))).PolicyDocument ?? '',
    );
    const wide = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] };
    await iam.send(
      new PutRolePolicyCommand({ RoleName: victim, PolicyName: 'platctl', PolicyDocument: JSON.stringify(wide) }),
    );

    const t = s.fresh();
    const deep = await iamStep.check(t.ctx);
    expect(deep.status).toBe('drift');
    // Only that role's inline policy, statement by statement: the missing grant and the stranger.
    expect(deep.changes).toEqual([
      `~ IAM role ${victim} inline policy platctl: statement VaultAutoUnseal missing`,
      `~ IAM role ${victim} inline policy platctl: unexpected statement #1`,
    ]);

    await iamStep.apply(t.ctx);
    expect(t.aws.counts.calls.filter((c) => !/:(Get|List)/.test(c))).toEqual(['iam:PutRolePolicy']);
    const now = decodeURIComponent(
      (await iam.send(new GetRolePolicyCommand({ RoleName: victim, PolicyName: 'platctl' }))).PolicyDocument ?? '',
    );
    expect(JSON.parse(now)).toEqual(JSON.parse(want));
    expect((await iamStep.check(s.fresh().ctx)).status).toBe('up-to-date');
  });

  it('destroy leaves no tagged role or provider, and tolerates running again', async () => {
    await iamStep.destroy(s.fresh().ctx);
    const iam = await raw();
    expect(await roleNames(iam, s.name)).toEqual([]);
    await expect(
      iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: s.providerArn })),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    await iamStep.destroy(s.fresh().ctx);
    expect((await iamStep.check(s.fresh().ctx)).status).toBe('absent');
  });
});

describe('iam step: adopted objects and concurrency', () => {
  const adopted = setup('iam-adopt');
  const wide = setup('iam-wide');
  const serial = setup('iam-serial');
  beforeAll(async () => {
    const iam = await raw();
    // Stands in for the EKS Terraform module, which makes the provider itself (untagged by platctl).
    await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: adopted.outputs.cluster.oidcIssuer,
        ClientIDList: ['sts.amazonaws.com'],
      }),
    );
  });
  afterAll(async () => {
    for (const x of [adopted, wide, serial]) await destroyIam(x.fresh().ctx);
    const iam = await raw();
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: adopted.providerArn }));
  });

  it('adopts an existing provider and leaves it, and a same-named untagged role, to their owners on destroy', async () => {
    const iam = await raw();
    const foreign = `eks-cert-manager-${adopted.name}`;
    const out = (await applyIam(adopted.fresh().ctx)) ?? {};
    expect(out.oidcProviderArn).toBe(adopted.providerArn);
    // Someone replaces platctl's role with their own, untagged one of the same name.
    await destroyIam(adopted.fresh().ctx);
    const ec2Trust = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    };
    await iam.send(new CreateRoleCommand({ RoleName: foreign, AssumeRolePolicyDocument: JSON.stringify(ec2Trust) }));
    const t = adopted.fresh();
    await destroyIam(t.ctx);
    expect(t.lines.join('\n')).toContain(`IAM role ${foreign} is not tagged for cluster ${adopted.name}: left alone`);
    expect((await iam.send(new GetRoleCommand({ RoleName: foreign }))).Role?.RoleName).toBe(foreign);
    const p = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: adopted.providerArn }));
    expect(p.ClientIDList).toEqual(['sts.amazonaws.com']);
    await iam.send(new DeleteRoleCommand({ RoleName: foreign }));
  });

  it('runs independent role calls concurrently up to the bound, and serially with concurrency 1', async () => {
    const w = wide.fresh();
    const wideCount = inFlight(await w.aws.iam(), /Role/);
    await applyIam(w.ctx, { concurrency: 3 });
    const s1 = serial.fresh();
    const serialCount = inFlight(await s1.aws.iam(), /Role/);
    await applyIam(s1.ctx, { concurrency: 1 });

    // Six roles: GetRole, CreateRole, PutRolePolicy each.
    expect(wideCount.total()).toBe(18);
    expect(serialCount.total()).toBe(18);
    expect(wideCount.max()).toBe(3);
    expect(serialCount.max()).toBe(1);
    const iam = await raw();
    expect(await roleNames(iam, wide.name)).toHaveLength(6);
    expect(await roleNames(iam, serial.name)).toHaveLength(6);
  });
});
