/**
 * The tagging API's stale answers, which moto never gives: a load balancer or EC2 resource it still lists after
 * deletion must be neither waited for nor reported. AWS behind a fake client that answers each service from
 * its own small world.
 */
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/clients/aws.js';
import { clusterLoadBalancers } from '../../src/teardown/cloud.js';
import { confirmExisting } from '../../src/teardown/confirm.js';

const region = 'eu-west-1';
const acct = '123456789012';
const clb = (name: string) => `arn:aws:elasticloadbalancing:${region}:${acct}:loadbalancer/${name}`;
const alb = (name: string) => `arn:aws:elasticloadbalancing:${region}:${acct}:loadbalancer/app/${name}/0123`;
const tg = (name: string) => `arn:aws:elasticloadbalancing:${region}:${acct}:targetgroup/${name}/0123`;
const ec2 = (type: string, id: string) => `arn:aws:ec2:${region}:${acct}:${type}/${id}`;

const awsError = (name: string) => Object.assign(new Error(`${name}: not found`), { name });

/** What each service really holds, and what the (stale) tagging API still lists. */
interface World {
  tagged: { arn: string; tags: Record<string, string> }[];
  classic: string[];
  elbv2: string[];
  ec2: Record<string, string | undefined>;
}

function fakeAws(world: World): { aws: AwsClients; calls: string[] } {
  const calls: string[] = [];
  const client = (service: string, handle: (op: string, input: Record<string, unknown>) => unknown) => ({
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const op = cmd.constructor.name.replace(/Command$/, '');
      calls.push(`${service}:${op}`);
      return handle(op, cmd.input);
    },
  });
  const tagging = client('tagging', (_op, input) => {
    const [filter] = input.TagFilters as { Key: string; Values?: string[] }[];
    const hits = world.tagged.filter(
      (t) =>
        filter &&
        t.tags[filter.Key] !== undefined &&
        (!filter.Values || filter.Values.includes(t.tags[filter.Key] ?? '')),
    );
    return {
      ResourceTagMappingList: hits.map((h) => ({
        ResourceARN: h.arn,
        Tags: Object.entries(h.tags).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  });
  const elb = client('elb', () => ({
    LoadBalancerDescriptions: world.classic.map((LoadBalancerName) => ({ LoadBalancerName })),
  }));
  const elbv2 = client('elbv2', (op, input) => {
    if (op === 'DescribeLoadBalancers' && !input.LoadBalancerArns) return { LoadBalancers: [] };
    const [arn] = (input.LoadBalancerArns ?? input.TargetGroupArns) as string[];
    if (!world.elbv2.includes(arn ?? ''))
      throw awsError(op === 'DescribeTargetGroups' ? 'TargetGroupNotFound' : 'LoadBalancerNotFound');
    return {};
  });
  const ec2c = client('ec2', (op, input) => {
    const ids = ((input.Filters as { Values: string[] }[] | undefined)?.[0]?.Values ?? input.InstanceIds) as string[];
    const present = ids.filter((id) => id in world.ec2);
    if (op === 'DescribeTags') return { Tags: present.map((ResourceId) => ({ ResourceId, Key: 'k', Value: 'v' })) };
    return {
      Reservations: [
        { Instances: present.map((InstanceId) => ({ InstanceId, State: { Name: world.ec2[InstanceId] } })) },
      ],
    };
  });
  const aws = {
    region,
    counts: { reads: 0, writes: 0, calls },
    tagging: async () => tagging,
    elb: async () => elb,
    elbv2: async () => elbv2,
    ec2: async () => ec2c,
  } as unknown as AwsClients;
  return { aws, calls };
}

describe('Classic ELBs the tagging API still lists', () => {
  it('are confirmed with ELB DescribeLoadBalancers: a deleted one is neither waited for nor a leak', async () => {
    const owned = { 'kubernetes.io/cluster/demo': 'owned' };
    const { aws, calls } = fakeAws({
      tagged: [
        { arn: clb('gone-one'), tags: owned },
        { arn: clb('still-here'), tags: owned },
      ],
      classic: ['still-here', 'someone-elses'],
      elbv2: [],
      ec2: {},
    });
    const found = await clusterLoadBalancers(aws, 'demo');
    expect(found.map((lb) => lb.name)).toEqual(['still-here']);
    expect(calls).toContain('elb:DescribeLoadBalancers');
  });

  it('cost no ELB call when the tagging API lists none', async () => {
    const { aws, calls } = fakeAws({ tagged: [], classic: ['x'], elbv2: [], ec2: {} });
    expect(await clusterLoadBalancers(aws, 'demo')).toEqual([]);
    expect(calls).not.toContain('elb:DescribeLoadBalancers');
  });
});

describe('confirmExisting (the orphan report)', () => {
  it('drops what its own service says is gone and keeps what it cannot confirm', async () => {
    const { aws } = fakeAws({
      tagged: [],
      classic: ['clb-live'],
      elbv2: [alb('alb-live'), tg('tg-live')],
      ec2: { 'sg-live': undefined, 'i-running': 'running', 'i-dead': 'terminated' },
    });
    const arns = [
      clb('clb-live'),
      clb('clb-gone'),
      alb('alb-live'),
      alb('alb-gone'),
      tg('tg-live'),
      tg('tg-gone'),
      ec2('security-group', 'sg-live'),
      ec2('security-group', 'sg-gone'),
      ec2('instance', 'i-running'),
      ec2('instance', 'i-dead'),
      `arn:aws:logs:${region}:${acct}:log-group:/aws/eks/demo/cluster`,
    ];
    const there = await confirmExisting(aws, arns);
    expect(arns.filter((_, i) => there[i])).toEqual([
      clb('clb-live'),
      alb('alb-live'),
      tg('tg-live'),
      ec2('security-group', 'sg-live'),
      ec2('instance', 'i-running'),
      `arn:aws:logs:${region}:${acct}:log-group:/aws/eks/demo/cluster`,
    ]);
  });

  it('makes no call for an empty list', async () => {
    const { aws, calls } = fakeAws({ tagged: [], classic: [], elbv2: [], ec2: {} });
    expect(await confirmExisting(aws, [])).toEqual([]);
    expect(calls).toEqual([]);
  });
});
