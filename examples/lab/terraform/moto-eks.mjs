#!/usr/bin/env node
// Lab only: stands in for what the AWS provider does for the real module (templates/terraform/eks), against
// moto. Run by main.tf's local-exec provisioners in the terraform working directory:
//
//   moto-eks.mjs create   VPC + cluster/node security groups + EKS cluster (adopted if they exist), then
//                         writes moto-eks.tfstate (outputs only), which the module reads back
//   moto-eks.mjs delete   deletes them again (tolerates them being gone) and moto-eks.tfstate
//
// Input comes from the environment (CLUSTER_NAME, REGION, KUBERNETES_VERSION, VPC_CIDR, TAGS_JSON). It refuses
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
          resourcesVpcConfig: { subnetIds: [], securityGroupIds: [clusterSg] },
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
  };
  // A state file with outputs only: what terraform_remote_state reads (format version 4).
  const outputs = Object.fromEntries(Object.entries(out).map(([k, value]) => [k, { value, type: 'string' }]));
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
