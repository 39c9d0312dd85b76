#!/usr/bin/env node
// Lab only: stands in for what the AWS provider does for the real module (templates/terraform/eks), against
// moto. Run by main.tf's local-exec provisioners in the terraform working directory:
//
//   moto-eks.mjs create   VPC, its private and public subnets (the template's layout, AZ_COUNT zones),
//                         cluster/node security groups + EKS cluster (adopted if they exist), then writes
//                         moto-eks.tfstate (outputs only), which the module reads back
//   moto-eks.mjs delete   deletes them again (tolerates them being gone) and moto-eks.tfstate
//
// Input comes from the environment (CLUSTER_NAME, REGION, KUBERNETES_VERSION, VPC_CIDR, AZ_COUNT, TAGS_JSON). It refuses
// to run without AWS_ENDPOINT_URL: it must never touch a real account. The endpoint output is the lab's
// kube-apiserver (PLATCTL_LAB_ENDPOINT, else the server of $KUBECONFIG or $PLATCTL_LAB_DIR/kubeconfig).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const OUT = 'moto-eks.tfstate';
const env = process.env;
if (!env.AWS_ENDPOINT_URL) {
  console.error('moto-eks.mjs: AWS_ENDPOINT_URL is not set; this lab helper only talks to moto');
  process.exit(1);
}
// The working dir is a copy of the module outside the package: resolve the SDK from platctl's node_modules.
const require = createRequire(path.join(env.PLATCTL_PACKAGE_ROOT ?? process.cwd(), 'package.json'));
const eks = require('@aws-sdk/client-eks');
const ec2 = require('@aws-sdk/client-ec2');
const sts = require('@aws-sdk/client-sts');
const YAML = require('yaml');

const name = env.CLUSTER_NAME;
const config = { region: env.REGION, endpoint: env.AWS_ENDPOINT_URL };
const eksClient = new eks.EKSClient(config);
const ec2Client = new ec2.EC2Client(config);
const tags = JSON.parse(env.TAGS_JSON || '{}');
const tagList = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const notFound = (err) => /NotFound|does not exist/i.test(`${err.name} ${err.message}`);

async function findVpc() {
  const r = await ec2Client.send(
    new ec2.DescribeVpcsCommand({
      Filters: [
        { Name: 'tag:platctl.io/cluster', Values: [name] },
        { Name: 'tag:platctl.io/step', Values: ['cluster'] },
      ],
    }),
  );
  return r.Vpcs?.[0]?.VpcId;
}

async function findGroup(vpcId, groupName) {
  const r = await ec2Client.send(
    new ec2.DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [groupName] },
      ],
    }),
  );
  return r.SecurityGroups?.[0]?.GroupId;
}

async function ensureGroup(vpcId, groupName, description) {
  const found = await findGroup(vpcId, groupName);
  if (found) return found;
  const r = await ec2Client.send(
    new ec2.CreateSecurityGroupCommand({
      GroupName: groupName,
      Description: description,
      VpcId: vpcId,
      TagSpecifications: [{ ResourceType: 'security-group', Tags: [...tagList, { Key: 'Name', Value: groupName }] }],
    }),
  );
  return r.GroupId;
}

/**
 * The template's subnet layout (templates/terraform/eks/main.tf locals): private subnets are the VPC's first
 * /+4 blocks, public ones /+8 blocks of its last /+4 block, one of each per zone.
 */
function subnetCidrs(vpcCidr, count) {
  const [ip, bits] = vpcCidr.split('/');
  const prefix = Number(bits);
  const base = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = (p) => 2 ** (32 - p);
  const cidr = (start, p) => `${[24, 16, 8, 0].map((s) => Math.floor(start / 2 ** s) % 256).join('.')}/${p}`;
  const last = base + 15 * size(prefix + 4);
  return Array.from({ length: count }, (_, i) => ({
    private: cidr(base + i * size(prefix + 4), prefix + 4),
    public: cidr(last + i * size(prefix + 8), prefix + 8),
  }));
}

async function vpcSubnets(vpcId) {
  const r = await ec2Client.send(new ec2.DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
  return r.Subnets ?? [];
}

async function ensureSubnets(vpcId) {
  const have = await vpcSubnets(vpcId);
  const ensure = async (cidr, zone, kind) => {
    const found = have.find((x) => x.CidrBlock === cidr);
    if (found) return found.SubnetId;
    const Name = `${name}-${kind}-${zone}`;
    const r = await ec2Client.send(
      new ec2.CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: cidr,
        AvailabilityZone: zone,
        TagSpecifications: [{ ResourceType: 'subnet', Tags: [...tagList, { Key: 'Name', Value: Name }] }],
      }),
    );
    return r.Subnet.SubnetId;
  };
  const layout = subnetCidrs(env.VPC_CIDR, Number(env.AZ_COUNT || 3));
  const zones = layout.map((_, i) => `${env.REGION}${'abcdef'[i]}`);
  return {
    private: await Promise.all(layout.map((l, i) => ensure(l.private, zones[i], 'private'))),
    public: await Promise.all(layout.map((l, i) => ensure(l.public, zones[i], 'public'))),
  };
}

function labEndpoint() {
  if (env.PLATCTL_LAB_ENDPOINT) return env.PLATCTL_LAB_ENDPOINT;
  const file = env.KUBECONFIG?.split(path.delimiter)[0] || path.join(env.PLATCTL_LAB_DIR ?? '.', 'kubeconfig');
  try {
    const kc = YAML.parse(readFileSync(file, 'utf8'));
    const ctx = kc.contexts?.find((c) => c.name === kc['current-context']) ?? kc.contexts?.[0];
    const cl = kc.clusters?.find((c) => c.name === ctx?.context?.cluster) ?? kc.clusters?.[0];
    return cl?.cluster?.server;
  } catch {
    return undefined;
  }
}

async function create() {
  const vpcId =
    (await findVpc()) ??
    (
      await ec2Client.send(
        new ec2.CreateVpcCommand({
          CidrBlock: env.VPC_CIDR,
          TagSpecifications: [{ ResourceType: 'vpc', Tags: [...tagList, { Key: 'Name', Value: name }] }],
        }),
      )
    ).Vpc.VpcId;
  const subnets = await ensureSubnets(vpcId);
  const clusterSg = await ensureGroup(vpcId, `${name}-cluster`, `EKS control plane of ${name}`);
  const nodeSg = await ensureGroup(vpcId, `${name}-node`, `EKS nodes of ${name}`);
  let cluster;
  try {
    cluster = (await eksClient.send(new eks.DescribeClusterCommand({ name }))).cluster;
  } catch (err) {
    if (!notFound(err)) throw err;
    const account = (await new sts.STSClient(config).send(new sts.GetCallerIdentityCommand({}))).Account;
    cluster = (
      await eksClient.send(
        new eks.CreateClusterCommand({
          name,
          version: env.KUBERNETES_VERSION,
          roleArn: `arn:aws:iam::${account}:role/${name}-cluster`,
          resourcesVpcConfig: { subnetIds: subnets.private, securityGroupIds: [clusterSg] },
          tags,
        }),
      )
    ).cluster;
  }
  const out = {
    cluster_name: name,
    endpoint: labEndpoint() ?? cluster.endpoint,
    oidc_issuer: cluster.identity?.oidc?.issuer ?? '',
    vpc_id: vpcId,
    cluster_additional_security_group_id: clusterSg,
    node_shared_security_group_id: nodeSg,
    private_subnet_ids: subnets.private,
    public_subnet_ids: subnets.public,
  };
  // A state file with outputs only: what terraform_remote_state reads (format version 4).
  const typeOf = (v) => (Array.isArray(v) ? ['list', 'string'] : 'string');
  const outputs = Object.fromEntries(Object.entries(out).map(([k, value]) => [k, { value, type: typeOf(value) }]));
  const state = { version: 4, terraform_version: '1.6.0', serial: 1, lineage: `moto-eks-${name}`, outputs, resources: [] };
  writeFileSync(OUT, `${JSON.stringify(state, null, 2)}\n`);
  console.log(`moto: cluster ${name} ${cluster.status}, vpc ${vpcId}, groups ${clusterSg} ${nodeSg}`);
}

async function ignoreGone(p) {
  try {
    await p;
  } catch (err) {
    if (!notFound(err)) throw err;
  }
}

async function remove() {
  await ignoreGone(eksClient.send(new eks.DeleteClusterCommand({ name })));
  const vpcId = await findVpc();
  if (vpcId) {
    for (const g of [`${name}-node`, `${name}-cluster`]) {
      const id = await findGroup(vpcId, g);
      if (id) await ignoreGone(ec2Client.send(new ec2.DeleteSecurityGroupCommand({ GroupId: id })));
    }
    for (const subnet of await vpcSubnets(vpcId))
      await ignoreGone(ec2Client.send(new ec2.DeleteSubnetCommand({ SubnetId: subnet.SubnetId })));
    await ignoreGone(ec2Client.send(new ec2.DeleteVpcCommand({ VpcId: vpcId })));
  }
  rmSync(OUT, { force: true });
  console.log(`moto: cluster ${name} deleted`);
}

const action = process.argv[2];
if (action === 'create') await create();
else if (action === 'delete') await remove();
else {
  console.error('usage: moto-eks.mjs create|delete');
  process.exit(2);
}
