/**
 * Step `network`: Istio's sidecar-injection and validation webhooks listen on TCP 15017 on the nodes, and the
 * EKS control plane must reach them. When the node security group does not allow 15017 from the cluster
 * security group, this step adds exactly that ingress rule (tagged) and records its rule id; destroy revokes
 * only that rule. When the cluster step recorded no security groups, the step reports it and does not guess
 * (it is not a failure: the requirement is printed for a person to verify). See docs/steps/network.md.
 */
import type { EC2Client, SecurityGroupRule } from '@aws-sdk/client-ec2';
import { assertAccount } from '../src/aws/account.js';
import { awsCall, isAwsError } from '../src/aws/errors.js';
import { CLUSTER_TAG, tagList } from '../src/aws/tags.js';
import { outputReader } from '../src/state/outputs.js';
import type { StepOutputs } from '../src/state/types.js';
import type { CheckResult, Step, StepContext } from '../src/step.js';
import { readClusterOutputs } from './cluster.js';

/** Istio's webhook port. */
export const WEBHOOK_PORT = 15017;
const RULE_DESCRIPTION = 'platctl: EKS control plane to Istio webhooks (TCP 15017)';

interface Groups {
  cluster: string;
  node: string;
}

/**
 * The network step's outputs: the ids of the rules platctl added (only those are revoked), or the note it
 * reported when the cluster's security groups are unknown.
 */
export const readNetworkOutputs = outputReader('network', { securityGroupRuleIds: 'strings', reported: 'string' });

/**
 * The control plane's additional security group and the nodes' shared one, as the cluster step recorded them
 * (a state recorded before those outputs were renamed says clusterSecurityGroupId / nodeSecurityGroupId), or
 * undefined when either is unknown.
 */
export function groupsOf(ctx: StepContext): Groups | undefined {
  const typed = readClusterOutputs(ctx);
  const legacy = outputReader('cluster', { clusterSecurityGroupId: 'string', nodeSecurityGroupId: 'string' })(ctx);
  const cluster = typed.clusterAdditionalSecurityGroupId ?? legacy.clusterSecurityGroupId;
  const node = typed.nodeSharedSecurityGroupId ?? legacy.nodeSecurityGroupId;
  return cluster?.startsWith('sg-') && node?.startsWith('sg-') ? { cluster, node } : undefined;
}

/** The note recorded (and printed) when the groups are unknown. */
export function unknownGroupsNote(ctx: StepContext): string {
  return (
    `security groups of cluster ${ctx.cluster.name} unknown (the cluster step recorded no clusterAdditionalSecurityGroupId/` +
    `nodeSharedSecurityGroupId): unverified; make sure the node security group allows TCP ${WEBHOOK_PORT} from the ` +
    'cluster security group, or Istio webhooks will time out'
  );
}

/** True when an ingress rule lets the cluster group reach TCP 15017 (all-traffic rules count). */
export function allowsWebhook(rule: SecurityGroupRule, clusterGroup: string): boolean {
  if (rule.IsEgress || rule.ReferencedGroupInfo?.GroupId !== clusterGroup) return false;
  if (rule.IpProtocol === '-1') return true;
  return rule.IpProtocol === 'tcp' && (rule.FromPort ?? 0) <= WEBHOOK_PORT && (rule.ToPort ?? 0) >= WEBHOOK_PORT;
}

const ours = (r: SecurityGroupRule, cluster: string) =>
  (r.Tags ?? []).some((t) => t.Key === CLUSTER_TAG && t.Value === cluster);

/** The node group's rules: ONE read (DescribeSecurityGroupRules, filtered by group id). */
async function nodeRules(ec2: EC2Client, g: Groups, principal?: string): Promise<SecurityGroupRule[]> {
  const { DescribeSecurityGroupRulesCommand } = await import('../src/aws/ec2.js');
  const rules: SecurityGroupRule[] = [];
  let NextToken: string | undefined;
  await awsCall(
    { action: 'ec2:DescribeSecurityGroupRules', resource: `security group ${g.node}`, principal },
    async () => {
      do {
        const page = await ec2.send(
          new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [g.node] }], NextToken }),
        );
        rules.push(...(page.SecurityGroupRules ?? []));
        NextToken = page.NextToken;
      } while (NextToken);
    },
  );
  return rules;
}

/** Outputs when the webhook port is allowed: the ids of covering rules platctl made (only those are revoked). */
function outputsOf(ctx: StepContext, covering: SecurityGroupRule[]): StepOutputs {
  return readNetworkOutputs.record({
    securityGroupRuleIds: covering.filter((r) => ours(r, ctx.cluster.name)).map((r) => r.SecurityGroupRuleId ?? ''),
  });
}

async function check(ctx: StepContext): Promise<CheckResult> {
  const g = groupsOf(ctx);
  if (!g) {
    // Reported, not failed: the pipeline goes on and the note is recorded in state for `platctl status`.
    ctx.log.warning(unknownGroupsNote(ctx));
    return {
      status: 'up-to-date',
      detail: unknownGroupsNote(ctx),
      outputs: readNetworkOutputs.record({ reported: unknownGroupsNote(ctx) }),
    };
  }
  const covering = (await nodeRules(await ctx.aws.ec2(), g)).filter((r) => allowsWebhook(r, g.cluster));
  if (covering.length)
    return {
      status: 'up-to-date',
      detail: `${g.node} allows TCP ${WEBHOOK_PORT} from ${g.cluster} (rule ${covering.map((r) => r.SecurityGroupRuleId).join(', ')}): up to date`,
      outputs: outputsOf(ctx, covering),
    };
  return {
    status: 'absent',
    detail: `${g.node} does not allow TCP ${WEBHOOK_PORT} from ${g.cluster}`,
    changes: [`+ ingress rule on ${g.node}: TCP ${WEBHOOK_PORT} from ${g.cluster}`],
  };
}

async function apply(ctx: StepContext): Promise<StepOutputs> {
  const g = groupsOf(ctx);
  if (!g) {
    ctx.log.warning(unknownGroupsNote(ctx));
    return readNetworkOutputs.record({ reported: unknownGroupsNote(ctx) });
  }
  const me = await assertAccount(ctx.aws, ctx.cluster);
  const ec2 = await ctx.aws.ec2();
  const covering = (await nodeRules(ec2, g, me.arn)).filter((r) => allowsWebhook(r, g.cluster));
  if (covering.length) return outputsOf(ctx, covering);
  const { AuthorizeSecurityGroupIngressCommand } = await import('../src/aws/ec2.js');
  const res = await awsCall(
    { action: 'ec2:AuthorizeSecurityGroupIngress', resource: `security group ${g.node}`, principal: me.arn },
    () =>
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: g.node,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: WEBHOOK_PORT,
              ToPort: WEBHOOK_PORT,
              UserIdGroupPairs: [{ GroupId: g.cluster, Description: RULE_DESCRIPTION }],
            },
          ],
          TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: tagList(ctx.cluster, 'network') }],
        }),
      ),
  );
  const ids = (res.SecurityGroupRules ?? []).map((r) => r.SecurityGroupRuleId ?? '').filter(Boolean);
  ctx.log.created(`ingress rule ${ids.join(', ')} on ${g.node}: TCP ${WEBHOOK_PORT} from ${g.cluster}`);
  return readNetworkOutputs.record({ securityGroupRuleIds: ids });
}

/** Revokes the rules platctl added: the recorded ids plus any rule on the node group tagged for this cluster. */
async function destroy(ctx: StepContext): Promise<void> {
  const g = groupsOf(ctx);
  const ids = new Set(readNetworkOutputs(ctx).securityGroupRuleIds);
  if (!g) {
    if (ids.size)
      ctx.log.warning(`security groups unknown: cannot revoke rules ${[...ids].join(', ')}; remove them by hand`);
    return;
  }
  const me = await assertAccount(ctx.aws, ctx.cluster);
  const ec2 = await ctx.aws.ec2();
  let rules: SecurityGroupRule[];
  try {
    rules = await nodeRules(ec2, g, me.arn);
  } catch (err) {
    if (isAwsError(err, 'InvalidGroup.NotFound')) return; // the group itself is gone
    throw err;
  }
  for (const r of rules) if (ours(r, ctx.cluster.name) && r.SecurityGroupRuleId) ids.add(r.SecurityGroupRuleId);
  const present = [...ids].filter((id) => rules.some((r) => r.SecurityGroupRuleId === id));
  if (present.length === 0) return;
  const { RevokeSecurityGroupIngressCommand } = await import('../src/aws/ec2.js');
  await awsCall(
    { action: 'ec2:RevokeSecurityGroupIngress', resource: `security group ${g.node}`, principal: me.arn },
    async () => {
      try {
        await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: g.node, SecurityGroupRuleIds: present }));
      } catch (err) {
        if (
          !isAwsError(err, 'InvalidGroup.NotFound', 'InvalidSecurityGroupRuleId.NotFound', 'InvalidPermission.NotFound')
        )
          throw err;
      }
    },
  );
  ctx.log.success(`revoked ${present.join(', ')} on ${g.node}`);
}

/** The `network` step. */
export const networkStep: Step = {
  id: 'network',
  title: `Network prerequisites (TCP ${WEBHOOK_PORT} to nodes)`,
  inputs: (ctx) => ({ groups: groupsOf(ctx) ?? null, tags: ctx.cluster.aws.tags }),
  check,
  apply,
  destroy,
};
