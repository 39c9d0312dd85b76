/**
 * Step `cluster` against the lab: real OpenTofu applying the lab module (examples/lab/terraform), whose
 * provisioner makes the EKS cluster, VPC and security groups in moto. Proves absent → applied → up to date,
 * the recorded outputs, zero AWS writes on a re-run, the abort on "no", destroy, the account guard, and the
 * translated module-error and lock-held failures through the step.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDir, packageRoot } from '../../src/paths.js';
import type { StepOutputs } from '../../src/state/types.js';
import { clusterStep } from '../../steps/cluster.js';
import { answering, cloudContext, labCluster, stopHolder, uniqueName, useLab } from '../helpers/cloud-context.js';
import { platctlFailure } from '../helpers/platctl-error.js';
import { waitForTofuLock } from '../helpers/tofu-lock.js';
import { lab } from '../lab/env.js';

const env = lab();
let home: string;
const name = uniqueName('cl');
let eks: EKSClient;
let ec2: EC2Client;

beforeAll(() => {
  home = useLab(env);
  eks = new EKSClient({ region: env.region, endpoint: env.awsEndpoint });
  ec2 = new EC2Client({ region: env.region, endpoint: env.awsEndpoint });
});
afterAll(async () => {
  // Leave moto clean even when a test failed half-way.
  const { ctx } = cloudContext(labCluster(env, name));
  await clusterStep.destroy(ctx).catch(() => undefined);
  await rm(home, { recursive: true, force: true });
});

const motoCluster = (n: string) =>
  eks.send(new DescribeClusterCommand({ name: n })).then(
    (r) => r.cluster,
    () => undefined,
  );

describe('cluster step on the lab module', () => {
  let outputs: StepOutputs = {};

  it('checks absent with the plan summary, and aborts with exit 3 when the plan is not confirmed', async () => {
    const cluster = labCluster(env, name);
    const { ctx } = cloudContext(cluster, { prompt: answering(false), yes: false });
    const check = await clusterStep.check(ctx);
    expect(check).toEqual({
      status: 'absent',
      detail: 'terraform: 1 to add, 0 to change, 0 to destroy',
      changes: ['+ terraform_data.eks'],
    });
    const err = await platctlFailure(clusterStep.apply(ctx));
    expect(err.code).toBe('ABORTED');
    expect(err.exitCode).toBe(3);
    expect(await motoCluster(name)).toBeUndefined();
  });

  it('applies: moto has the cluster, VPC and groups, and the outputs are recorded', async () => {
    const prompt = answering(true);
    const { ctx, progress, lines } = cloudContext(labCluster(env, name), { prompt, yes: false });
    expect((await clusterStep.check(ctx)).status).toBe('absent');
    outputs = (await clusterStep.apply(ctx)) ?? {};
    expect(prompt.asked).toEqual([
      `Apply the terraform plan for cluster ${name} (1 to add, 0 to change, 0 to destroy)?`,
    ]);
    expect(lines.map((l) => l.trim())).toContain('+ terraform_data.eks');
    expect(progress).toContain('terraform_data.eks: create started');
    expect(progress.some((p) => /^terraform_data\.eks: create complete after \d+s$/.test(p))).toBe(true);

    const c = await motoCluster(name);
    expect(c?.status).toBe('ACTIVE');
    expect(c?.tags?.['platctl.io/cluster']).toBe(name);
    expect(outputs).toMatchObject({
      clusterName: name,
      endpoint: env.apiserverUrl,
      oidcIssuer: c?.identity?.oidc?.issuer,
    });
    const vpc = (await ec2.send(new DescribeVpcsCommand({ VpcIds: [String(outputs.vpcId)] }))).Vpcs?.[0];
    expect(vpc?.CidrBlock).toBe('10.42.0.0/16');
    const groups = await ec2.send(
      new DescribeSecurityGroupsCommand({
        GroupIds: [String(outputs.clusterAdditionalSecurityGroupId), String(outputs.nodeSharedSecurityGroupId)],
      }),
    );
    expect(groups.SecurityGroups?.map((g) => g.VpcId)).toEqual([outputs.vpcId, outputs.vpcId]);
    // One private and one public subnet per zone, in the template's layout: the vars step hands them on.
    const subnets = async (ids: unknown) =>
      ((await ec2.send(new DescribeSubnetsCommand({ SubnetIds: ids as string[] }))).Subnets ?? []).map((x) => [
        x.VpcId,
        x.CidrBlock,
        x.AvailabilityZone,
      ]);
    const zones = ['a', 'b', 'c'].map((z) => `${env.region}${z}`);
    expect(await subnets(outputs.privateSubnetIds)).toEqual(
      ['10.42.0.0/20', '10.42.16.0/20', '10.42.32.0/20'].map((c, i) => [outputs.vpcId, c, zones[i]]),
    );
    expect(await subnets(outputs.publicSubnetIds)).toEqual(
      ['10.42.240.0/24', '10.42.241.0/24', '10.42.242.0/24'].map((c, i) => [outputs.vpcId, c, zones[i]]),
    );
  });

  it('a re-run is up to date: tofu plans no changes and no AWS write is made', async () => {
    const { ctx, aws } = cloudContext(labCluster(env, name), { deep: true });
    const check = await clusterStep.check(ctx);
    expect(check.status).toBe('up-to-date');
    expect(check.detail).toBe('terraform: no changes');
    expect(check.outputs).toEqual(outputs);
    expect(aws.counts.writes).toBe(0);

    // The cheap check (state done, inputs unchanged) is the account guard plus one DescribeCluster.
    const cheap = cloudContext(labCluster(env, name), { deep: false, outputs: { cluster: outputs } });
    const quick = await clusterStep.check(cheap.ctx);
    expect(quick).toEqual({
      status: 'up-to-date',
      detail: `EKS cluster ${name} is ACTIVE (run with --verify to plan)`,
    });
    expect(cheap.aws.counts.calls).toEqual(['sts:GetCallerIdentity', 'eks:DescribeCluster']);
    expect(cheap.aws.counts.writes).toBe(0);
  });

  it('a lock held by a concurrent tofu fails the check with the holder and the force-unlock hint', async () => {
    const workdir = path.join(clusterDir(name), 'terraform');
    let holder: ChildProcess | undefined;
    try {
      // `tofu console` holds the state lock for as long as it runs.
      holder = spawn(env.bins.tofu, ['console', '-var-file=platctl.tfvars.json'], {
        cwd: workdir,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      const info = await waitForTofuLock(workdir);
      const err = await platctlFailure(clusterStep.check(cloudContext(labCluster(env, name)).ctx));
      expect(err.code).toBe('LOCK_HELD');
      expect(err.message).toContain(`locked by ${info.Who} (since `);
      expect(err.hint).toBe(
        `wait for that run to finish; if it died, release the lock with: tofu -chdir=${workdir} force-unlock ${info.ID}`,
      );
    } finally {
      await stopHolder(holder);
    }
  });

  it('the cheap check notices the cluster is gone, and destroy removes it from moto', async () => {
    const { ctx, progress } = cloudContext(labCluster(env, name), { outputs: { cluster: outputs } });
    await clusterStep.destroy(ctx);
    expect(progress.some((p) => /^terraform_data\.eks: delete complete after \d+s$/.test(p))).toBe(true);
    expect(await motoCluster(name)).toBeUndefined();
    const vpcs = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'tag:platctl.io/cluster', Values: [name] }] }),
    );
    expect(vpcs.Vpcs).toEqual([]);
    const cheap = cloudContext(labCluster(env, name), { deep: false, outputs: { cluster: outputs } });
    expect(await clusterStep.check(cheap.ctx)).toEqual({
      status: 'drift',
      detail: `EKS cluster ${name} no longer exists`,
      changes: [`+ EKS cluster ${name}`],
    });
    // Destroying again is fine: nothing left.
    await clusterStep.destroy(cloudContext(labCluster(env, name)).ctx);
  });
});

describe('cluster step guards', () => {
  it('refuses the wrong account before running terraform', async () => {
    const other = uniqueName('acct');
    const cluster = labCluster(env, other, { aws: { accountId: '999999999999', region: env.region } });
    const err = await platctlFailure(clusterStep.check(cloudContext(cluster).ctx));
    expect(err.code).toBe('AWS_ACCOUNT_MISMATCH');
    expect(existsSync(clusterDir(other))).toBe(false);
  });

  it('a broken module fails the check naming the file and line', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'platctl-broken-'));
    try {
      await writeFile(path.join(dir, 'main.tf'), 'output "endpoint" {\n  value = var.missing\n}\n');
      const cluster = labCluster(env, uniqueName('broken'), { terraform: { binary: 'tofu', module: dir } });
      const err = await platctlFailure(clusterStep.check(cloudContext(cluster).ctx));
      expect(err.code).toBe('TERRAFORM_FAILED');
      expect(err.message).toMatch(/: Reference to undeclared input variable at .*main\.tf:2$/);
      expect(err.message).toContain(path.join(dir, 'main.tf'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('destroy with a lost local state fails instead of reporting success', async () => {
    const lost = uniqueName('lost');
    const { ctx } = cloudContext(labCluster(env, lost));
    await clusterStep.apply(ctx);
    const workdir = path.join(clusterDir(lost), 'terraform');
    try {
      await rm(path.join(workdir, 'terraform.tfstate'));
      const err = await platctlFailure(clusterStep.destroy(cloudContext(labCluster(env, lost)).ctx));
      expect(err.message).toBe(`terraform destroy finished but EKS cluster ${lost} still exists`);
      expect(err.hint).toContain(`the local state in ${workdir}`);
    } finally {
      // The lab module's own helper removes what it made in moto.
      await execa(process.execPath, ['moto-eks.mjs', 'delete'], {
        cwd: workdir,
        env: { CLUSTER_NAME: lost, REGION: env.region, PLATCTL_PACKAGE_ROOT: packageRoot },
      });
    }
    expect(await motoCluster(lost)).toBeUndefined();
  });

  it('inputs change with the module content', async () => {
    const { ctx } = cloudContext(labCluster(env, name));
    const dir = await mkdtemp(path.join(tmpdir(), 'platctl-mod-'));
    try {
      await writeFile(path.join(dir, 'main.tf'), '# v1\n');
      const c = { ...ctx.cluster, terraform: { ...ctx.cluster.terraform, module: dir } };
      const first = JSON.stringify(clusterStep.inputs({ ...ctx, cluster: c }));
      await writeFile(path.join(dir, 'main.tf'), '# v2\n');
      expect(JSON.stringify(clusterStep.inputs({ ...ctx, cluster: c }))).not.toBe(first);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
