/**
 * The network step against moto: a VPC and two security groups made here stand in for what Terraform makes
 * (the EKS cluster group and the node group). The step adds TCP 15017 from the cluster group once, tagged,
 * writes nothing on a re-run, respects a rule someone else already made, revokes only its own rule on destroy,
 * and reports (without failing, without AWS calls) when the groups are unknown.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DeleteVpcCommand,
  DescribeSecurityGroupRulesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/clients/aws.js';
import { networkStep } from '../../steps/network.js';
import { awsCluster, awsContext, uniqueCluster, useLabAws, withDeep } from '../helpers/aws-context.js';
import { lab } from '../lab/env.js';

const env = lab();
useLabAws(env);
const raw = () => createAwsClients({ region: env.region }).ec2();

const ingress = async (ec2: EC2Client, group: string) =>
  (
    (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [group] }] })))
      .SecurityGroupRules ?? []
  ).filter((r) => !r.IsEgress);

describe('network step against moto', () => {
  const name = uniqueCluster('net');
  const cluster = awsCluster(env, name);
  let vpcId = '';
  const groups = { cluster: '', node: '', other: '' };
  const fresh = (deep = true) =>
    awsContext(cluster, {
      deep,
      outputs: {
        cluster: { clusterAdditionalSecurityGroupId: groups.cluster, nodeSharedSecurityGroupId: groups.node },
      },
    });

  beforeAll(async () => {
    const ec2 = await raw();
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }))).Vpc?.VpcId ?? '';
    const sg = async (n: string) =>
      (await ec2.send(new CreateSecurityGroupCommand({ GroupName: `${name}-${n}`, Description: n, VpcId: vpcId })))
        .GroupId ?? '';
    groups.cluster = await sg('cluster');
    groups.node = await sg('node');
    groups.other = await sg('other-node');
  });
  afterAll(async () => {
    const ec2 = await raw();
    for (const g of [groups.node, groups.other, groups.cluster])
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: g })).catch(() => undefined);
    await ec2.send(new DeleteVpcCommand({ VpcId: vpcId })).catch(() => undefined);
  });

  it('adds one tagged TCP 15017 rule from the cluster group to the node group', async () => {
    const t = fresh();
    const check = await networkStep.check(t.ctx);
    expect(check.status).toBe('absent');
    expect(check.changes).toEqual([`+ ingress rule on ${groups.node}: TCP 15017 from ${groups.cluster}`]);
    const out = (await networkStep.apply(t.ctx)) ?? {};
    const rules = await ingress(await raw(), groups.node);
    expect(rules).toHaveLength(1);
    const [rule] = rules;
    expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 15017, ToPort: 15017 });
    expect(rule?.ReferencedGroupInfo?.GroupId).toBe(groups.cluster);
    expect(rule?.Tags).toContainEqual({ Key: 'platctl.io/cluster', Value: name });
    expect(rule?.Tags).toContainEqual({ Key: 'platctl.io/step', Value: 'network' });
    expect(out.securityGroupRuleIds).toEqual([rule?.SecurityGroupRuleId]);
  });

  it('is idempotent: the cheap check is one read, a re-apply writes nothing and adds no rule', async () => {
    const t = fresh(false);
    const check = await networkStep.check(t.ctx);
    expect(check.status, check.detail).toBe('up-to-date');
    expect(t.aws.counts.calls).toEqual(['ec2:DescribeSecurityGroupRules']);
    await networkStep.apply(withDeep(t, true));
    expect(t.aws.counts.writes).toBe(0);
    expect(await ingress(await raw(), groups.node)).toHaveLength(1);
  });

  it('destroy revokes only the rule platctl added', async () => {
    const ec2 = await raw();
    // Someone else's rule on the same group must survive.
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groups.node,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: groups.cluster }] },
        ],
      }),
    );
    const t = fresh();
    const out = (await networkStep.check(t.ctx)).outputs ?? {};
    t.outputs.network = out;
    await networkStep.destroy(t.ctx);
    const left = await ingress(ec2, groups.node);
    expect(left.map((r) => r.FromPort)).toEqual([443]);
    await networkStep.destroy(t.ctx);
    expect((await networkStep.check(fresh().ctx)).status).toBe('absent');
  });

  it('adopts an existing all-traffic rule from the cluster group and never revokes it', async () => {
    const ec2 = await raw();
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groups.other,
        IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groups.cluster }] }],
      }),
    );
    const outputs = {
      cluster: { clusterAdditionalSecurityGroupId: groups.cluster, nodeSharedSecurityGroupId: groups.other },
    };
    const t = awsContext(cluster, { outputs });
    const check = await networkStep.check(t.ctx);
    expect(check.status).toBe('up-to-date');
    expect(check.outputs).toEqual({ securityGroupRuleIds: [] });
    t.outputs.network = check.outputs ?? {};
    await networkStep.destroy(t.ctx);
    expect(await ingress(ec2, groups.other)).toHaveLength(1);
  });

  it('reports unknown security groups instead of guessing, without failing and without AWS calls', async () => {
    const t = awsContext(cluster, { outputs: { cluster: { clusterAdditionalSecurityGroupId: groups.cluster } } });
    const check = await networkStep.check(t.ctx);
    expect(check.status).toBe('up-to-date');
    expect(check.detail).toContain('unverified');
    expect(check.detail).toContain('TCP 15017');
    expect(check.outputs?.reported).toBe(check.detail);
    const out = await networkStep.apply(t.ctx);
    expect(out).toEqual({ reported: check.detail });
    expect(t.lines.some((l) => l.startsWith('⚠') && l.includes('unverified'))).toBe(true);
    expect(t.aws.counts.calls).toEqual([]);
  });
});
