/**
 * Read-only AWS lookups for teardown's preparation: the load balancers Kubernetes made for a cluster, and the
 * security groups and network interfaces left tagged for it. Kubernetes controllers tag what they make with
 * their own keys, not platctl's, so each lookup matches any of the cluster's ownership tags.
 */

import { awsCall, explainAwsError, isAwsError } from '../aws/errors.js';
import { CLUSTER_TAG } from '../aws/tags.js';
import type { AwsClients } from '../clients/aws.js';

/** Tag key the AWS Load Balancer Controller puts on its load balancers, target groups and security groups. */
export const LBC_TAG = 'elbv2.k8s.aws/cluster';
/** Tag key the Amazon VPC CNI puts on the network interfaces it creates. */
export const CNI_TAG = 'cluster.k8s.amazonaws.com/name';
/** Tag key EKS puts on what it manages itself (the cluster security group); it goes with the cluster. */
export const EKS_TAG = 'aws:eks:cluster-name';

/** The in-tree cloud provider's ownership tag key, `kubernetes.io/cluster/<name>` (value `owned`). */
export const kubeClusterTag = (cluster: string) => `kubernetes.io/cluster/${cluster}`;

type Tags = Record<string, string | undefined>;

/** Which ownership tag ties these tags to the cluster (`key=value`), or undefined when none does. */
export function clusterOwnership(tags: Tags, cluster: string): string | undefined {
  if (tags[LBC_TAG] === cluster) return `${LBC_TAG}=${cluster}`;
  if (tags[kubeClusterTag(cluster)] === 'owned') return `${kubeClusterTag(cluster)}=owned`;
  if (tags[CNI_TAG] === cluster) return `${CNI_TAG}=${cluster}`;
  if (tags[CLUSTER_TAG] === cluster) return `${CLUSTER_TAG}=${cluster}`;
  return undefined;
}

const toRecord = (list: { Key?: string; Value?: string }[] | undefined): Tags =>
  Object.fromEntries((list ?? []).map((t) => [t.Key ?? '', t.Value]));

/** A cloud load balancer tagged for the cluster. */
export interface ClusterLoadBalancer {
  arn: string;
  name: string;
  /** `elbv2` (ALB/NLB, from the ELBv2 API) or `elb` (Classic, from the Resource Groups Tagging API). */
  api: 'elbv2' | 'elb';
  /** The tag that tied it to the cluster. */
  tag: string;
}

/** ELBv2 (ALB/NLB): every load balancer of the region, then DescribeTags in batches of 20 (the API's limit). */
async function elbv2LoadBalancers(aws: AwsClients, cluster: string): Promise<ClusterLoadBalancer[]> {
  const { DescribeLoadBalancersCommand, DescribeTagsCommand } = await import('../aws/elbv2.js');
  const elbv2 = await aws.elbv2();
  const all: { arn: string; name: string }[] = [];
  let Marker: string | undefined;
  do {
    const page = await awsCall({ action: 'elasticloadbalancing:DescribeLoadBalancers', resource: '*' }, () =>
      elbv2.send(new DescribeLoadBalancersCommand({ Marker, PageSize: 400 })),
    );
    for (const lb of page.LoadBalancers ?? [])
      if (lb.LoadBalancerArn) all.push({ arn: lb.LoadBalancerArn, name: lb.LoadBalancerName ?? lb.LoadBalancerArn });
    Marker = page.NextMarker;
  } while (Marker);
  const describe = (arns: string[]) => elbv2.send(new DescribeTagsCommand({ ResourceArns: arns }));
  const found: ClusterLoadBalancer[] = [];
  for (let i = 0; i < all.length; i += 20) {
    const batch = all.slice(i, i + 20);
    const what = { action: 'elasticloadbalancing:DescribeTags', resource: batch.map((b) => b.name).join(', ') };
    const descs: { ResourceArn?: string; Tags?: { Key?: string; Value?: string }[] }[] = [];
    try {
      descs.push(...((await describe(batch.map((b) => b.arn))).TagDescriptions ?? []));
    } catch (err) {
      // One load balancer deleted since the listing fails the whole batch: ask one by one, skipping the gone.
      if (!isAwsError(err, 'LoadBalancerNotFound')) throw explainAwsError(err, what);
      for (const b of batch) {
        const one = await describe([b.arn]).catch((e: unknown) => {
          if (isAwsError(e, 'LoadBalancerNotFound')) return undefined;
          throw explainAwsError(e, { ...what, resource: b.name });
        });
        descs.push(...(one?.TagDescriptions ?? []));
      }
    }
    for (const d of descs) {
      const tag = clusterOwnership(toRecord(d.Tags), cluster);
      const lb = batch.find((b) => b.arn === d.ResourceArn);
      if (tag && lb) found.push({ ...lb, api: 'elbv2', tag });
    }
  }
  return found;
}

/** Every resource carrying one tag (any value when `values` is empty), across all pages. */
export async function taggedArns(
  aws: AwsClients,
  key: string,
  values: string[],
): Promise<{ arn: string; tags: Tags }[]> {
  const { GetResourcesCommand } = await import('../aws/tagging.js');
  const tagging = await aws.tagging();
  const out: { arn: string; tags: Tags }[] = [];
  let PaginationToken: string | undefined;
  do {
    const page = await awsCall({ action: 'tag:GetResources', resource: `resources tagged ${key}` }, () =>
      tagging.send(
        new GetResourcesCommand({
          TagFilters: [{ Key: key, ...(values.length ? { Values: values } : {}) }],
          ...(PaginationToken ? { PaginationToken } : {}),
        }),
      ),
    );
    for (const m of page.ResourceTagMappingList ?? [])
      if (m.ResourceARN) out.push({ arn: m.ResourceARN, tags: toRecord(m.Tags) });
    PaginationToken = page.PaginationToken || undefined;
  } while (PaginationToken);
  return out;
}

/** A Classic ELB ARN: `…:loadbalancer/<name>`, where ELBv2 ones are `…:loadbalancer/app|net|gwy/<name>/<id>`. */
const classicElb = /^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:loadbalancer\/(?!(app|net|gwy)\/)([^/]+)$/;

/**
 * The names of the Classic ELBs that exist in the region now (all pages). The tagging API keeps listing a
 * deleted resource for a while, so a Classic ELB it names is real only if ELB itself still describes it.
 */
export async function existingClassicElbs(aws: AwsClients): Promise<Set<string>> {
  const { DescribeLoadBalancersCommand } = await import('../aws/elb.js');
  const elb = await aws.elb();
  const names = new Set<string>();
  let Marker: string | undefined;
  do {
    const page = await awsCall({ action: 'elasticloadbalancing:DescribeLoadBalancers', resource: 'Classic ELBs' }, () =>
      elb.send(new DescribeLoadBalancersCommand({ Marker, PageSize: 400 })),
    );
    for (const lb of page.LoadBalancerDescriptions ?? []) if (lb.LoadBalancerName) names.add(lb.LoadBalancerName);
    Marker = page.NextMarker;
  } while (Marker);
  return names;
}

/**
 * Classic ELBs, found through the Resource Groups Tagging API (ELB's own tag read takes names, not a filter):
 * one query per ownership tag, as TagFilters AND together. What it finds is then confirmed with ELB's
 * DescribeLoadBalancers (one read, and only when the tagging API named any), so a load balancer deleted
 * minutes ago is never waited for or called a leak.
 */
async function classicLoadBalancers(aws: AwsClients, cluster: string): Promise<ClusterLoadBalancer[]> {
  const queries: [string, string[]][] = [
    [LBC_TAG, [cluster]],
    [kubeClusterTag(cluster), ['owned']],
    [CLUSTER_TAG, [cluster]],
  ];
  const found = new Map<string, ClusterLoadBalancer>();
  for (const [key, values] of queries) {
    for (const r of await taggedArns(aws, key, values)) {
      const m = classicElb.exec(r.arn);
      const tag = clusterOwnership(r.tags, cluster);
      if (m?.[2] && tag && !found.has(r.arn)) found.set(r.arn, { arn: r.arn, name: m[2], api: 'elb', tag });
    }
  }
  if (found.size === 0) return [];
  const exist = await existingClassicElbs(aws);
  return [...found.values()].filter((lb) => exist.has(lb.name));
}

/** Every ELBv2 and Classic load balancer tagged for the cluster, sorted by ARN. */
export async function clusterLoadBalancers(aws: AwsClients, cluster: string): Promise<ClusterLoadBalancer[]> {
  const [v2, classic] = await Promise.all([elbv2LoadBalancers(aws, cluster), classicLoadBalancers(aws, cluster)]);
  return [...v2, ...classic].sort((a, b) => a.arn.localeCompare(b.arn));
}

/** A security group or network interface that nothing in teardown will delete. */
export interface Leftover {
  type: 'security-group' | 'network-interface';
  id: string;
  /** Group name, or the interface's description. */
  name: string;
  /** The tag that tied it to the cluster. */
  tag: string;
}

/**
 * Security groups and detached (`available`) network interfaces Kubernetes made for the cluster (controller,
 * cloud provider or CNI tags) that are still there. Ones tagged platctl.io/cluster belong to platctl's steps, and ones tagged
 * aws:eks:cluster-name to EKS: both are deleted later in teardown, so they are not leftovers.
 */
export async function clusterLeftovers(aws: AwsClients, cluster: string): Promise<Leftover[]> {
  const { DescribeSecurityGroupsCommand, DescribeNetworkInterfacesCommand } = await import('../aws/ec2.js');
  const ec2 = await aws.ec2();
  const keys = [LBC_TAG, kubeClusterTag(cluster), CNI_TAG];
  const filter = [{ Name: 'tag-key', Values: keys }];
  const leftover = (tags: Tags) =>
    tags[CLUSTER_TAG] === cluster || tags[EKS_TAG] ? undefined : clusterOwnership(tags, cluster);
  const out: Leftover[] = [];
  let NextToken: string | undefined;
  do {
    const page = await awsCall({ action: 'ec2:DescribeSecurityGroups', resource: `groups tagged ${keys}` }, () =>
      ec2.send(new DescribeSecurityGroupsCommand({ Filters: filter, NextToken })),
    );
    for (const g of page.SecurityGroups ?? []) {
      const tag = leftover(toRecord(g.Tags));
      if (tag && g.GroupId) out.push({ type: 'security-group', id: g.GroupId, name: g.GroupName ?? '', tag });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  do {
    const page = await awsCall({ action: 'ec2:DescribeNetworkInterfaces', resource: `ENIs tagged ${keys}` }, () =>
      ec2.send(new DescribeNetworkInterfacesCommand({ Filters: filter, NextToken })),
    );
    for (const n of page.NetworkInterfaces ?? []) {
      // An attached ENI (in-use, attaching, detaching) belongs to something still running, typically a node
      // the cluster step is about to delete: only a detached (`available`) one is left behind.
      if (n.Status !== 'available') continue;
      const tag = leftover(toRecord(n.TagSet));
      if (tag && n.NetworkInterfaceId)
        out.push({ type: 'network-interface', id: n.NetworkInterfaceId, name: n.Description ?? '', tag });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}
