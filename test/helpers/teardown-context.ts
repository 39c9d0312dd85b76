/**
 * Shared set-up for the teardown tests against the lab: AWS clients on moto, a Kubernetes client scoped to one
 * namespace, the Flux CRDs, and the AWS objects a load-balancer controller would have made.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AwsClients, createAwsClients } from '../../src/clients/aws.js';
import type { KubeClient, KubeObject } from '../../src/clients/kube.js';
import { parseManifests } from '../../src/flux/manifests.js';
import { FIXTURES } from '../lab/config.js';
import type { LabEnv } from '../lab/env.js';

export { uniqueName } from './lab-cluster.js';

/** AWS clients talking to the lab's moto (createAwsClients reads the endpoint and credentials from the env). */
export function labAws(env: LabEnv): AwsClients {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: env.awsEndpoint,
    AWS_ACCESS_KEY_ID: env.accessKeyId,
    AWS_SECRET_ACCESS_KEY: env.secretAccessKey,
    AWS_REGION: env.region,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  return createAwsClients({ region: env.region });
}

/**
 * The real client, with every list confined to one namespace. prepareTeardown works cluster-wide, and the lab's
 * apiserver is shared with other engineers' tests: unscoped, it would suspend and delete their objects too.
 */
export function scopedKube(kube: KubeClient, namespace: string): KubeClient {
  return {
    server: kube.server,
    get: (ref) => kube.get(ref),
    list: (apiVersion, kind, opts = {}) => kube.list(apiVersion, kind, { ...opts, namespace }),
    create: (obj) => kube.create(obj),
    replace: (obj) => kube.replace(obj),
    apply: (obj, opts) => kube.apply(obj, opts),
    patch: (ref, body, opts) => kube.patch(ref, body, opts),
    delete: (ref, opts) => kube.delete(ref, opts),
  };
}

/**
 * Installs the CustomResourceDefinitions (only those) of Flux's install.yaml with server-side apply, forced so
 * that an install by another test or field manager does not conflict, then waits until the two teardown uses
 * are Established. They are left installed: other tests may rely on them.
 */
export async function installFluxCrds(kube: KubeClient): Promise<void> {
  const text = await readFile(path.join(FIXTURES, 'flux', 'install.yaml'), 'utf8');
  const crds = parseManifests(text, 'flux install.yaml').filter((o) => o.kind === 'CustomResourceDefinition');
  for (const crd of crds) await kube.apply(crd, { force: true });
  for (const name of ['kustomizations.kustomize.toolkit.fluxcd.io', 'helmreleases.helm.toolkit.fluxcd.io']) {
    for (let i = 0; ; i++) {
      const crd = await kube.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name,
      });
      if (crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 150) throw new Error(`CRD ${name} not Established after 30s`);
      await sleep(200);
    }
  }
}

/** A VPC with two subnets in two zones (what an ALB needs), in moto. */
export async function labVpc(aws: AwsClients): Promise<{ vpcId: string; subnetIds: string[] }> {
  const { CreateVpcCommand, CreateSubnetCommand } = await import('@aws-sdk/client-ec2');
  const ec2 = await aws.ec2();
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const subnetIds: string[] = [];
  for (const [i, zone] of ['a', 'b'].entries()) {
    const s = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.77.${i}.0/24`, AvailabilityZone: `${aws.region}${zone}` }),
    );
    subnetIds.push(s.Subnet?.SubnetId ?? '');
  }
  return { vpcId, subnetIds };
}

/** Deletes what {@link labVpc} made (after its ENIs and groups are gone). */
export async function deleteLabVpc(aws: AwsClients, vpc: { vpcId: string; subnetIds: string[] }): Promise<void> {
  const { DeleteSubnetCommand, DeleteVpcCommand } = await import('@aws-sdk/client-ec2');
  const ec2 = await aws.ec2();
  for (const SubnetId of vpc.subnetIds) await ec2.send(new DeleteSubnetCommand({ SubnetId })).catch(() => undefined);
  await ec2.send(new DeleteVpcCommand({ VpcId: vpc.vpcId })).catch(() => undefined);
}

/** An ALB in moto with the given tags; returns its ARN. */
export async function createAlb(
  aws: AwsClients,
  name: string,
  subnetIds: string[],
  tags: Record<string, string>,
): Promise<string> {
  const { CreateLoadBalancerCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
  const elbv2 = await aws.elbv2();
  const r = await elbv2.send(
    new CreateLoadBalancerCommand({
      Name: name,
      Subnets: subnetIds,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  const arn = r.LoadBalancers?.[0]?.LoadBalancerArn;
  if (!arn) throw new Error(`moto returned no ARN for load balancer ${name}`);
  return arn;
}

/** Deletes a load balancer (gone already is fine). */
export async function deleteLb(aws: AwsClients, arn: string): Promise<void> {
  const { DeleteLoadBalancerCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
  await (await aws.elbv2()).send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn })).catch(() => undefined);
}

/** `[{Key, Value}]` from a record, for TagSpecifications. */
export const tagSpec = (
  ResourceType: 'security-group' | 'network-interface' | 'security-group-rule',
  tags: Record<string, string>,
) => [{ ResourceType, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }];
