/**
 * The orphan report against moto: each resource type platctl tags, found either through the Resource Groups
 * Tagging API (security groups, KMS keys) or through the direct lookups for what it does not cover (IAM roles,
 * OIDC providers and policies, security group rules, EKS clusters); KMS keys pending deletion left out.
 */
import { randomBytes } from 'node:crypto';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
} from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DeleteClusterCommand } from '@aws-sdk/client-eks';
import {
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  DeletePolicyCommand,
  DeleteRoleCommand,
} from '@aws-sdk/client-iam';
import { CreateKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/clients/aws.js';
import { arnType, orphanReport } from '../../src/teardown/orphans.js';
import { deleteLabVpc, labAws, labVpc, tagSpec, uniqueName } from '../helpers/teardown-context.js';
import { lab } from '../lab/env.js';

let aws: AwsClients;
let vpc: { vpcId: string; subnetIds: string[] };
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  aws = labAws(lab());
  vpc = await labVpc(aws);
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await deleteLabVpc(aws, vpc);
});

const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const policyDoc = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }],
});

describe('arnType', () => {
  it('names the service and resource type of an ARN', () => {
    expect(arnType('arn:aws:iam::123456789012:role/platctl/demo/eks-vault-demo')).toBe('iam:role');
    expect(arnType('arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AB')).toBe(
      'iam:oidc-provider',
    );
    expect(arnType('arn:aws:ec2:us-east-1:123456789012:security-group-rule/sgr-1')).toBe('ec2:security-group-rule');
    expect(arnType('arn:aws:logs:us-east-1:123456789012:log-group:/aws/eks/demo')).toBe('logs:log-group');
  });
});

describe('orphanReport (moto)', () => {
  it('lists every type platctl tags, leaves out scheduled KMS keys and other clusters, and is empty after cleanup', async () => {
    const cluster = uniqueName('tdo');
    const tags = [
      { Key: 'platctl.io/cluster', Value: cluster },
      { Key: 'platctl.io/step', Value: 'iam' },
    ];
    const [iam, ec2, kms, eks] = await Promise.all([aws.iam(), aws.ec2(), aws.kms(), aws.eks()]);

    const role = await iam.send(
      new CreateRoleCommand({ RoleName: `${cluster}-vault`, AssumeRolePolicyDocument: trust, Tags: tags }),
    );
    cleanups.push(() => iam.send(new DeleteRoleCommand({ RoleName: `${cluster}-vault` })));
    await iam.send(
      new CreateRoleCommand({
        RoleName: `${cluster}-x-vault`,
        AssumeRolePolicyDocument: trust,
        Tags: [{ Key: 'platctl.io/cluster', Value: `${cluster}-x` }],
      }),
    );
    cleanups.push(() => iam.send(new DeleteRoleCommand({ RoleName: `${cluster}-x-vault` })));
    const oidc = await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: `https://oidc.eks.us-east-1.amazonaws.com/id/${randomBytes(16).toString('hex').toUpperCase()}`,
        ClientIDList: ['sts.amazonaws.com'],
        ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
        Tags: tags,
      }),
    );
    cleanups.push(() =>
      iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: oidc.OpenIDConnectProviderArn })),
    );
    const policy = await iam.send(
      new CreatePolicyCommand({ PolicyName: `${cluster}-ecr`, PolicyDocument: policyDoc, Tags: tags }),
    );
    cleanups.push(() => iam.send(new DeletePolicyCommand({ PolicyArn: policy.Policy?.Arn })));
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: cluster,
        Description: 'node security group',
        VpcId: vpc.vpcId,
        TagSpecifications: tagSpec('security-group', { 'platctl.io/cluster': cluster }),
      }),
    );
    cleanups.push(() => ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId })));
    // The network step's rule lives in a group platctl does not own (the cluster's): only the rule is tagged.
    const untaggedSg = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: `${cluster}-eks`,
        Description: 'cluster security group',
        VpcId: vpc.vpcId,
      }),
    );
    cleanups.push(() => ec2.send(new DeleteSecurityGroupCommand({ GroupId: untaggedSg.GroupId })));
    const rule = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: untaggedSg.GroupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 15017, ToPort: 15017, UserIdGroupPairs: [{ GroupId: sg.GroupId }] },
        ],
        TagSpecifications: tagSpec('security-group-rule', { 'platctl.io/cluster': cluster }),
      }),
    );
    const live = await kms.send(
      new CreateKeyCommand({ Description: 'vault', Tags: [{ TagKey: 'platctl.io/cluster', TagValue: cluster }] }),
    );
    cleanups.push(() =>
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: live.KeyMetadata?.KeyId, PendingWindowInDays: 7 })),
    );
    const scheduled = await kms.send(
      new CreateKeyCommand({ Description: 'ebs', Tags: [{ TagKey: 'platctl.io/cluster', TagValue: cluster }] }),
    );
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: scheduled.KeyMetadata?.KeyId, PendingWindowInDays: 7 }));
    const eksCluster = await eks.send(
      new CreateClusterCommand({
        name: cluster,
        roleArn: role.Role?.Arn,
        resourcesVpcConfig: { subnetIds: vpc.subnetIds },
        tags: { 'platctl.io/cluster': cluster },
      }),
    );
    cleanups.push(() => eks.send(new DeleteClusterCommand({ name: cluster })));

    const orphans = await orphanReport(aws, cluster);
    const ruleId = rule.SecurityGroupRules?.[0]?.SecurityGroupRuleId ?? 'missing';
    expect(orphans.map((o) => o.type)).toEqual([
      'ec2:security-group',
      'ec2:security-group-rule',
      'eks:cluster',
      'iam:oidc-provider',
      'iam:policy',
      'iam:role',
      'kms:key',
    ]);
    const arns = orphans.map((o) => o.arn);
    expect(arns).toContain(role.Role?.Arn);
    expect(arns).toContain(oidc.OpenIDConnectProviderArn);
    expect(arns).toContain(policy.Policy?.Arn);
    expect(arns).toContain(live.KeyMetadata?.Arn);
    expect(arns).toContain(eksCluster.cluster?.arn);
    expect(arns.find((a) => a.includes(`security-group/${sg.GroupId}`))).toBeDefined();
    expect(arns.find((a) => a.endsWith(`security-group-rule/${ruleId}`))).toMatch(/^arn:aws:ec2:us-east-1:\d{12}:/);
    expect(arns).not.toContain(scheduled.KeyMetadata?.Arn);
    expect(arns.some((a) => a.includes(`${cluster}-x`))).toBe(false);

    // What teardown's steps do: delete everything (the KMS key by scheduling its deletion).
    for (const c of cleanups.splice(0).reverse()) await c();
    expect(await orphanReport(aws, cluster)).toEqual([]);
  });
});
