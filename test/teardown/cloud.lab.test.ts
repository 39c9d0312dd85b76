/**
 * The AWS lookups behind teardown's wait, against moto: ELBv2 load balancers through the ELBv2 API, Classic
 * ELBs through the Resource Groups Tagging API, each matched by any of the cluster's ownership tags.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/clients/aws.js';
import { clusterLeftovers, clusterLoadBalancers, clusterOwnership } from '../../src/teardown/cloud.js';
import { createClassicElb, deleteClassicElb } from '../helpers/classic-elb.js';
import { createAlb, deleteLabVpc, deleteLb, labAws, labVpc, tagSpec, uniqueName } from '../helpers/teardown-context.js';
import { lab } from '../lab/env.js';

let aws: AwsClients;
let vpc: { vpcId: string; subnetIds: string[] };

beforeAll(async () => {
  aws = labAws(lab());
  vpc = await labVpc(aws);
});
afterAll(async () => {
  await deleteLabVpc(aws, vpc);
});

describe('clusterOwnership', () => {
  it('matches the controller, cloud-provider, CNI and platctl tags, for this cluster only', () => {
    expect(clusterOwnership({ 'elbv2.k8s.aws/cluster': 'a' }, 'a')).toBe('elbv2.k8s.aws/cluster=a');
    expect(clusterOwnership({ 'kubernetes.io/cluster/a': 'owned' }, 'a')).toBe('kubernetes.io/cluster/a=owned');
    expect(clusterOwnership({ 'cluster.k8s.amazonaws.com/name': 'a' }, 'a')).toBe('cluster.k8s.amazonaws.com/name=a');
    expect(clusterOwnership({ 'platctl.io/cluster': 'a' }, 'a')).toBe('platctl.io/cluster=a');
    // "shared" marks subnets and VPCs the cluster uses but does not own.
    expect(clusterOwnership({ 'kubernetes.io/cluster/a': 'shared' }, 'a')).toBeUndefined();
    expect(clusterOwnership({ 'elbv2.k8s.aws/cluster': 'ab' }, 'a')).toBeUndefined();
    expect(clusterOwnership({ 'kubernetes.io/cluster/ab': 'owned' }, 'a')).toBeUndefined();
  });
});

describe('clusterLoadBalancers (moto)', () => {
  it('finds ALBs and Classic ELBs tagged for the cluster, once each, and nothing once they are deleted', async () => {
    const cluster = uniqueName('tdlb');
    const albName = uniqueName('k8s-alb');
    const clbName = uniqueName('k8s-clb');
    const alb = await createAlb(aws, albName, vpc.subnetIds, { 'elbv2.k8s.aws/cluster': cluster });
    await createClassicElb(lab(), clbName, vpc.subnetIds, { [`kubernetes.io/cluster/${cluster}`]: 'owned' });
    const otherAlb = await createAlb(aws, uniqueName('k8s-oth'), vpc.subnetIds, {
      [`kubernetes.io/cluster/${cluster}`]: 'shared',
    });
    const otherClb = uniqueName('k8s-oclb');
    await createClassicElb(lab(), otherClb, vpc.subnetIds, { 'elbv2.k8s.aws/cluster': `${cluster}x` });
    try {
      const found = await clusterLoadBalancers(aws, cluster);
      expect(
        found.map(({ name, api, tag }) => ({ name, api, tag })).sort((a, b) => a.api.localeCompare(b.api)),
      ).toEqual([
        { name: clbName, api: 'elb', tag: `kubernetes.io/cluster/${cluster}=owned` },
        { name: albName, api: 'elbv2', tag: `elbv2.k8s.aws/cluster=${cluster}` },
      ]);
      expect(found.find((f) => f.api === 'elbv2')?.arn).toBe(alb);
      expect(found.find((f) => f.api === 'elb')?.arn).toMatch(new RegExp(`:loadbalancer/${clbName}$`));
      await deleteLb(aws, alb);
      await deleteClassicElb(lab(), clbName);
      expect(await clusterLoadBalancers(aws, cluster)).toEqual([]);
    } finally {
      await deleteLb(aws, alb);
      await deleteLb(aws, otherAlb);
      await deleteClassicElb(lab(), clbName).catch(() => undefined);
      await deleteClassicElb(lab(), otherClb).catch(() => undefined);
    }
  });
});

describe('clusterLeftovers (moto)', () => {
  it('reports a detached ENI tagged for the cluster, never one a live instance uses', async () => {
    const ec2sdk = await import('@aws-sdk/client-ec2');
    const ec2 = await aws.ec2();
    const cluster = uniqueName('tdeni');
    const tags = { 'cluster.k8s.amazonaws.com/name': cluster };
    const eni = async () =>
      (
        await ec2.send(
          new ec2sdk.CreateNetworkInterfaceCommand({
            SubnetId: vpc.subnetIds[0],
            Description: 'aws-K8S-i-0123',
            TagSpecifications: tagSpec('network-interface', tags),
          }),
        )
      ).NetworkInterface?.NetworkInterfaceId ?? '';
    const detached = await eni();
    const attached = await eni();
    const image = (await ec2.send(new ec2sdk.DescribeImagesCommand({}))).Images?.[0]?.ImageId;
    const run = await ec2.send(
      new ec2sdk.RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, SubnetId: vpc.subnetIds[0] }),
    );
    const instance = run.Instances?.[0]?.InstanceId ?? '';
    let attachment: string | undefined;
    try {
      attachment = (
        await ec2.send(
          new ec2sdk.AttachNetworkInterfaceCommand({
            NetworkInterfaceId: attached,
            InstanceId: instance,
            DeviceIndex: 1,
          }),
        )
      ).AttachmentId;
      const status = async (id: string) =>
        (await ec2.send(new ec2sdk.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] })))
          .NetworkInterfaces?.[0]?.Status;
      expect(await status(attached)).toBe('in-use');
      expect(await status(detached)).toBe('available');
      const found = await clusterLeftovers(aws, cluster);
      expect(found.map((l) => l.id)).toEqual([detached]);
    } finally {
      if (attachment)
        await ec2
          .send(new ec2sdk.DetachNetworkInterfaceCommand({ AttachmentId: attachment, Force: true }))
          .catch(() => {});
      await ec2.send(new ec2sdk.TerminateInstancesCommand({ InstanceIds: [instance] })).catch(() => {});
      for (const id of [detached, attached])
        await ec2.send(new ec2sdk.DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id })).catch(() => {});
    }
  });
});
