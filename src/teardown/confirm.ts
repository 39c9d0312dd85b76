/**
 * The Resource Groups Tagging API is eventually consistent: it keeps listing a resource for a while after it
 * is deleted. Before the orphan report calls a resource left behind, each one the tagging API named is asked
 * of its own service, which answers from the resource itself:
 *
 * | ARN | confirmed with |
 * | --- | --- |
 * | Classic ELB `…:loadbalancer/<name>` | `elasticloadbalancing:DescribeLoadBalancers` (Classic API, all pages) |
 * | ALB/NLB/GWLB `…:loadbalancer/app|net|gwy/…` | ELBv2 `DescribeLoadBalancers` by ARN |
 * | target group | ELBv2 `DescribeTargetGroups` by ARN |
 * | any EC2 resource | `ec2:DescribeTags` for the id (tags go with the resource); instances also by state |
 *
 * Other types (KMS keys are checked in orphans.ts) are reported as the tagging API lists them.
 */
import { awsCall, isAwsError } from '../aws/errors.js';
import { mapLimit } from '../aws/parallel.js';
import type { AwsClients } from '../clients/aws.js';
import { existingClassicElbs } from './cloud.js';

const classicElb = /^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:loadbalancer\/(?!(app|net|gwy)\/)([^/]+)$/;
const elbv2Lb = /^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:loadbalancer\/(app|net|gwy)\//;
const targetGroup = /^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:targetgroup\//;
const ec2Resource = /^arn:[^:]+:ec2:[^:]*:[^:]*:([a-z-]+)\/([\w-]+)$/;

/** Instance states that mean the instance is gone (terminated instances stay listed for about an hour). */
const GONE_INSTANCE = new Set(['shutting-down', 'terminated']);

async function elbv2Exists(aws: AwsClients, arn: string): Promise<boolean> {
  const { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand } = await import('../aws/elbv2.js');
  const elbv2 = await aws.elbv2();
  const tg = targetGroup.test(arn);
  try {
    await awsCall(
      { action: `elasticloadbalancing:${tg ? 'DescribeTargetGroups' : 'DescribeLoadBalancers'}`, resource: arn },
      () =>
        tg
          ? elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))
          : elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] })),
    );
    return true;
  } catch (err) {
    if (isAwsError(err, 'LoadBalancerNotFound', 'TargetGroupNotFound')) return false;
    if (isAwsError((err as { cause?: unknown }).cause, 'LoadBalancerNotFound', 'TargetGroupNotFound')) return false;
    throw err;
  }
}

/** The EC2 resource ids among `ids` that still exist (DescribeTags, 200 ids a call; instances by state too). */
async function ec2Existing(aws: AwsClients, ids: string[]): Promise<Set<string>> {
  const { DescribeInstancesCommand, DescribeTagsCommand } = await import('../aws/ec2.js');
  const ec2 = await aws.ec2();
  const seen = new Set<string>();
  for (let i = 0; i < ids.length; i += 200) {
    const batch = ids.slice(i, i + 200);
    let NextToken: string | undefined;
    do {
      const page = await awsCall({ action: 'ec2:DescribeTags', resource: batch.join(', ') }, () =>
        ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: batch }], NextToken })),
      );
      for (const t of page.Tags ?? []) if (t.ResourceId) seen.add(t.ResourceId);
      NextToken = page.NextToken;
    } while (NextToken);
  }
  const instances = [...seen].filter((id) => id.startsWith('i-'));
  if (instances.length > 0) {
    const page = await awsCall({ action: 'ec2:DescribeInstances', resource: instances.join(', ') }, () =>
      ec2.send(new DescribeInstancesCommand({ InstanceIds: instances })),
    ).catch((err: unknown) => {
      if (
        isAwsError(err, 'InvalidInstanceID.NotFound') ||
        isAwsError((err as { cause?: unknown }).cause, 'InvalidInstanceID.NotFound')
      )
        return { Reservations: [] };
      throw err;
    });
    const live = new Set<string>();
    for (const r of page.Reservations ?? [])
      for (const inst of r.Instances ?? [])
        if (inst.InstanceId && !GONE_INSTANCE.has(inst.State?.Name ?? '')) live.add(inst.InstanceId);
    for (const id of instances) if (!live.has(id)) seen.delete(id);
  }
  return seen;
}

/**
 * For each ARN the tagging API listed: false when its own service says it no longer exists. ARNs of types
 * without a confirming read stay true. Reads only, and none at all for an empty list.
 */
export async function confirmExisting(aws: AwsClients, arns: readonly string[]): Promise<boolean[]> {
  const classic = arns.some((a) => classicElb.test(a)) ? await existingClassicElbs(aws) : undefined;
  const ec2Ids = arns.map((a) => ec2Resource.exec(a)?.[2]).filter((id): id is string => Boolean(id));
  const ec2 = ec2Ids.length > 0 ? await ec2Existing(aws, ec2Ids) : undefined;
  return mapLimit([...arns], 5, async (arn) => {
    const c = classicElb.exec(arn);
    if (c?.[2]) return classic?.has(c[2]) ?? true;
    if (elbv2Lb.test(arn) || targetGroup.test(arn)) return elbv2Exists(aws, arn);
    const e = ec2Resource.exec(arn);
    if (e?.[2]) return ec2?.has(e[2]) ?? true;
    return true;
  });
}
