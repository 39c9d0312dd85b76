/**
 * Step `access`. kubeconfig mode against the lab's real apiserver (one read, no AWS call); eks mode against
 * a cluster in moto (made here with the SDK, standing in for the cluster step): the kubeconfig entry written
 * and merged, up to date on a re-run with zero AWS writes, drift when the file differs, and destroy taking
 * only platctl's entry. The CREATING wait is shown with a fake EKS behind ctx.aws.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateClusterCommand, DeleteClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { AwsClients } from '../../src/clients/aws.js';
import { isPlatctlError } from '../../src/errors.js';
import { readKubeconfigEntry } from '../../src/kubeconfig.js';
import { accessStep, waitForActive } from '../../steps/access.js';
import { cloudContext, labCluster, uniqueName, useLab } from '../helpers/cloud-context.js';
import { lab } from '../lab/env.js';

const env = lab();
let home: string;
const name = uniqueName('acc');
let tmp: string;
let eks: EKSClient;

beforeAll(async () => {
  home = useLab(env);
  tmp = await mkdtemp(path.join(tmpdir(), 'platctl-access-'));
  eks = new EKSClient({ region: env.region, endpoint: env.awsEndpoint });
  await eks.send(
    new CreateClusterCommand({
      name,
      roleArn: 'arn:aws:iam::123456789012:role/eks',
      resourcesVpcConfig: {},
      tags: { 'platctl.io/cluster': name },
    }),
  );
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await eks.send(new DeleteClusterCommand({ name })).catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
});

describe('kubeconfig mode (the lab apiserver)', () => {
  it('is up to date when the configured kubeconfig reaches the API, and makes no AWS call', async () => {
    const { ctx, aws } = cloudContext(labCluster(env, name));
    const check = await accessStep.check(ctx);
    expect(check).toEqual({
      status: 'up-to-date',
      detail: `the API at ${env.apiserverUrl} answers (context ${env.kubeContext})`,
      outputs: { kubeconfig: env.kubeconfig, context: env.kubeContext, server: env.apiserverUrl },
    });
    expect(aws.counts.calls).toEqual([]);
    expect(await accessStep.apply(ctx)).toEqual(check.outputs);
    // Destroy leaves a kubeconfig it did not write alone.
    const before = await readFile(env.kubeconfig, 'utf8');
    await accessStep.destroy(ctx);
    expect(await readFile(env.kubeconfig, 'utf8')).toBe(before);
  });

  it('probes the --context the command was given, over the context platform.yaml names', async () => {
    // A copy of the lab kubeconfig with a second context whose server refuses connections (loopback, port 1).
    const doc = parse(await readFile(env.kubeconfig, 'utf8'));
    doc.clusters.push({ name: 'elsewhere', cluster: { server: 'https://127.0.0.1:1' } });
    doc.contexts.push({ name: 'elsewhere', context: { cluster: 'elsewhere', user: doc.contexts[0].context.user } });
    const file = path.join(tmp, 'two-contexts');
    await writeFile(file, stringify(doc));
    const cluster = labCluster(env, name, {
      kubernetes: { version: '1.34', access: 'kubeconfig', kubeconfig: file, context: 'elsewhere' },
    });
    const unflagged = await accessStep.check(cloudContext(cluster).ctx).catch((e: unknown) => e);
    expect(isPlatctlError(unflagged) && unflagged.code).toBe('KUBE_UNREACHABLE');

    const { ctx } = cloudContext(cluster, { flags: { context: env.kubeContext } });
    const check = await accessStep.check(ctx);
    expect(check.outputs).toEqual({ kubeconfig: file, context: env.kubeContext, server: env.apiserverUrl });
    expect(await accessStep.apply(ctx)).toEqual(check.outputs);
  });

  it('fails clearly when the configured context does not exist', async () => {
    const cluster = labCluster(env, name, {
      kubernetes: { version: '1.34', access: 'kubeconfig', kubeconfig: env.kubeconfig, context: 'nope' },
    });
    const err = await accessStep.check(cloudContext(cluster).ctx).catch((e: unknown) => e);
    expect(isPlatctlError(err) && err.code).toBe('KUBE_UNREACHABLE');
    expect(isPlatctlError(err) && err.message).toBe('kubeconfig has no context "nope"');
  });
});

describe('eks mode (moto)', () => {
  const userConfig = `apiVersion: v1
kind: Config
clusters:
  - name: mine
    cluster: { server: "https://mine.example:6443" }
users:
  - name: me
    user: { token: abc }
contexts:
  - name: mine
    context: { cluster: mine, user: me }
current-context: mine
`;
  const eksCluster = (file: string) =>
    labCluster(env, name, { kubernetes: { version: '1.34', access: 'eks', kubeconfig: file } });

  it('writes the entry from DescribeCluster, keeps the user’s entries, and a re-run writes nothing', async () => {
    const file = path.join(tmp, 'eks-config');
    await writeFile(file, userConfig);
    const { ctx } = cloudContext(eksCluster(file));
    expect(await accessStep.check(ctx)).toEqual({
      status: 'absent',
      detail: `no kubeconfig entry ${name} in ${file}`,
      changes: [`+ kubeconfig entry ${name}`],
    });
    const outputs = await accessStep.apply(ctx);
    const described = (await eks.send(new DescribeClusterCommand({ name }))).cluster;
    expect(outputs).toEqual({ kubeconfig: file, context: name, server: described?.endpoint });
    const got = await readKubeconfigEntry(file, name);
    expect(got).toMatchObject({
      server: described?.endpoint,
      caData: described?.certificateAuthority?.data,
      command: 'platctl',
      args: ['eks', 'token', '--cluster', name, '--region', env.region],
      clusterName: described?.arn,
    });
    const doc = parse(await readFile(file, 'utf8'));
    expect(doc['current-context']).toBe('mine');
    expect(doc.contexts.map((c: { name: string }) => c.name)).toEqual(['mine', name]);

    const again = cloudContext(eksCluster(file), { deep: false, outputs: { access: outputs ?? {} } });
    const check = await accessStep.check(again.ctx);
    expect(check.status).toBe('up-to-date');
    expect(check.detail).toBe(`kubeconfig ${file} context ${name} is up to date`);
    expect(again.aws.counts.writes).toBe(0);
    expect(again.aws.counts.calls).toEqual(['sts:GetCallerIdentity', 'eks:DescribeCluster']);
  });

  it('reports drift when the entry no longer matches EKS, and destroy removes only platctl’s entry', async () => {
    const file = path.join(tmp, 'eks-config');
    const text = await readFile(file, 'utf8');
    const described = (await eks.send(new DescribeClusterCommand({ name }))).cluster;
    await writeFile(file, text.replace(String(described?.endpoint), 'https://stale.example'));
    const { ctx } = cloudContext(eksCluster(file));
    expect(await accessStep.check(ctx)).toMatchObject({ status: 'drift', changes: [`~ kubeconfig entry ${name}`] });
    await accessStep.apply(ctx);
    expect((await readKubeconfigEntry(file, name))?.server).toBe(described?.endpoint);

    await accessStep.destroy(
      cloudContext(eksCluster(file), { outputs: { access: { kubeconfig: file, context: name } } }).ctx,
    );
    expect(parse(await readFile(file, 'utf8'))).toEqual(parse(userConfig));
  });

  it('names the entry after --context when the command was given one', async () => {
    const file = path.join(tmp, 'flagged-config');
    await writeFile(file, userConfig);
    const { ctx } = cloudContext(eksCluster(file), { flags: { context: 'flagged' } });
    const outputs = await accessStep.apply(ctx);
    expect(outputs).toMatchObject({ kubeconfig: file, context: 'flagged' });
    expect((await readKubeconfigEntry(file, 'flagged'))?.args).toEqual([
      'eks',
      'token',
      '--cluster',
      name,
      '--region',
      env.region,
    ]);
    const again = cloudContext(eksCluster(file), { flags: { context: 'flagged' }, deep: false });
    expect((await accessStep.check(again.ctx)).status).toBe('up-to-date');
  });

  it('says the cluster is absent when EKS has no such cluster', async () => {
    const file = path.join(tmp, 'none-config');
    const cluster = labCluster(env, uniqueName('gone'), {
      kubernetes: { version: '1.34', access: 'eks', kubeconfig: file },
    });
    expect((await accessStep.check(cloudContext(cluster).ctx)).status).toBe('absent');
  });
});

describe('waiting for a CREATING cluster (fake EKS)', () => {
  /** EKS answering DescribeCluster with the given statuses in turn (then the last one forever). */
  const fakeAws = (statuses: string[]): AwsClients => {
    let i = 0;
    const cluster = () => ({
      name: 'demo',
      status: statuses[Math.min(i++, statuses.length - 1)],
      endpoint: 'https://x.example',
      arn: 'arn:aws:eks:us-east-1:123456789012:cluster/demo',
      certificateAuthority: { data: 'Q0E=' },
    });
    return {
      region: 'us-east-1',
      counts: { reads: 0, writes: 0, calls: [] },
      eks: async () => ({ send: async () => ({ cluster: cluster() }) }),
    } as unknown as AwsClients;
  };

  it('waits through CREATING with progress, then returns the ACTIVE cluster', async () => {
    const { ctx, progress } = cloudContext(labCluster(env, 'demo'), {
      aws: fakeAws(['CREATING', 'CREATING', 'ACTIVE']),
    });
    const c = await waitForActive(ctx, 'demo', 1);
    expect(c.status).toBe('ACTIVE');
    expect(progress).toHaveLength(2);
    expect(progress[0]).toMatch(/^EKS cluster demo is CREATING \(\d+s\)$/);
  });

  it('fails on FAILED, naming the cluster', async () => {
    const { ctx } = cloudContext(labCluster(env, 'demo'), { aws: fakeAws(['CREATING', 'FAILED']) });
    const err = await waitForActive(ctx, 'demo', 1).catch((e: unknown) => e);
    expect(isPlatctlError(err) && err.message).toBe('EKS cluster demo is FAILED');
  });
});
