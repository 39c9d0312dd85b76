/**
 * Step `access-entries`. moto does not implement EKS access entries (it answers 404), so against the lab the
 * step falls back to the aws-auth ConfigMap on the real apiserver: merged, idempotent, zero AWS writes on a
 * re-run, and destroy removing only platctl's entries. The access-entry path itself is proved against a fake
 * EKS behind ctx.aws (the narrow SDK `send` interface), since no lab component serves it.
 */
import { rm } from 'node:fs/promises';
import { CreateClusterCommand, DeleteClusterCommand, EKSClient, ListAccessEntriesCommand } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AWS_AUTH_REF, MANAGED_ANNOTATION, READ_ONLY_BINDING } from '../../src/aws/aws-auth.js';
import { isAccessEntriesUnsupported } from '../../src/aws/eks-access.js';
import { connectKube, type KubeClient, type KubeObject } from '../../src/clients/kube.js';
import { isPlatctlError } from '../../src/errors.js';
import type { StepOutputs } from '../../src/state/types.js';
import { accessEntriesStep } from '../../steps/access-entries.js';
import { cloudContext, labCluster, uniqueName, useLab } from '../helpers/cloud-context.js';
import { fakeEks } from '../helpers/fake-eks.js';
import { lab } from '../lab/env.js';

const env = lab();
let home: string;
const name = uniqueName('ae');
const acct = '123456789012';
const adminRole = `arn:aws:iam::${acct}:role/teams/platform/${name}-admins`;
const adminUser = `arn:aws:iam::${acct}:user/${name}-alice`;
const viewer = `arn:aws:iam::${acct}:role/${name}-viewers`;
const nodeRole = `arn:aws:iam::${acct}:role/${name}-nodes`;
let eks: EKSClient;
let kube: KubeClient;
let saved: KubeObject | undefined;

type AuthMap = KubeObject & { data?: Record<string, string> };
const readAuth = async () => kube.get<AuthMap>(AWS_AUTH_REF);
const mapRoles = async () => parse((await readAuth())?.data?.mapRoles ?? '[]') as { rolearn: string }[];

beforeAll(async () => {
  home = useLab(env);
  eks = new EKSClient({ region: env.region, endpoint: env.awsEndpoint });
  await eks.send(new CreateClusterCommand({ name, roleArn: `arn:aws:iam::${acct}:role/eks`, resourcesVpcConfig: {} }));
  kube = await connectKube({ kubeconfig: env.kubeconfig, context: env.kubeContext });
  saved = await readAuth();
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await eks.send(new DeleteClusterCommand({ name })).catch(() => undefined);
  // Put aws-auth back as this file found it (the apiserver is shared).
  const now = await readAuth();
  if (!saved && now) await kube.delete(AWS_AUTH_REF);
  if (saved && now)
    await kube.replace({ ...saved, metadata: { ...saved.metadata, resourceVersion: now.metadata.resourceVersion } });
  await kube.delete(READ_ONLY_BINDING);
});

describe('aws-auth fallback (moto has no access-entry API; the lab apiserver)', () => {
  const config = (admins: string[], readOnly: string[]) => labCluster(env, name, { access: { admins, readOnly } });
  let outputs: StepOutputs = {};

  it('recognises moto’s answer to the access-entry API as "not available"', async () => {
    const err = await eks.send(new ListAccessEntriesCommand({ clusterName: name })).catch((e: unknown) => e);
    expect(isAccessEntriesUnsupported(err)).toBe(true);
  });

  it('merges platctl’s entries into an existing aws-auth, leaving the others alone', async () => {
    // Someone else's mappings: the node role, and a mapping for a principal platctl is asked to add.
    const foreign = [
      {
        rolearn: nodeRole,
        username: 'system:node:{{EC2PrivateDNSName}}',
        groups: ['system:bootstrappers', 'system:nodes'],
      },
      { rolearn: viewer, username: 'hand-made', groups: ['ops'] },
    ];
    const mapRolesText = `${JSON.stringify(foreign)}\n`;
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'aws-auth', namespace: 'kube-system' },
      data: { mapRoles: mapRolesText },
    };
    const current = await readAuth();
    if (current)
      await kube.replace({
        ...body,
        metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion },
      });
    else await kube.create(body);

    const { ctx, lines } = cloudContext(config([adminRole, adminUser], [viewer]));
    const check = await accessEntriesStep.check(ctx);
    expect(check.status).toBe('absent');
    expect(check.changes).toEqual([
      `+ aws-auth mapRoles arn:aws:iam::${acct}:role/${name}-admins (system:masters)`,
      `+ aws-auth mapUsers ${adminUser} (system:masters)`,
      `+ ClusterRoleBinding ${READ_ONLY_BINDING.name}`,
    ]);
    expect(lines.some((l) => l.includes(`aws-auth already maps ${viewer} (not platctl's entry)`))).toBe(true);

    outputs = (await accessEntriesStep.apply(ctx)) ?? {};
    expect(outputs).toEqual({ mode: 'aws-auth', admins: [adminRole, adminUser], readOnly: [] });
    const roles = await mapRoles();
    expect(roles.slice(0, 2)).toEqual(foreign);
    // aws-auth matches role ARNs without their path.
    expect(roles[2]).toEqual({
      rolearn: `arn:aws:iam::${acct}:role/${name}-admins`,
      username: 'platctl-admin:{{SessionName}}',
      groups: ['system:masters'],
    });
    const cm = await readAuth();
    expect(parse(cm?.data?.mapUsers ?? '')).toEqual([
      { userarn: adminUser, username: `platctl-admin:${name}-alice`, groups: ['system:masters'] },
    ]);
    expect(JSON.parse(cm?.metadata.annotations?.[MANAGED_ANNOTATION] ?? '')).toEqual([
      `arn:aws:iam::${acct}:role/${name}-admins`,
      adminUser,
    ]);
    const binding = await kube.get<KubeObject & { subjects: unknown[]; roleRef: { name: string } }>(READ_ONLY_BINDING);
    expect(binding?.roleRef.name).toBe('view');
  });

  it('a re-run is up to date and makes no AWS write', async () => {
    const deep = cloudContext(config([adminRole, adminUser], [viewer]), {
      outputs: { 'access-entries': outputs },
    });
    const check = await accessEntriesStep.check(deep.ctx);
    expect(check.status).toBe('up-to-date');
    expect(check.outputs).toEqual(outputs);
    expect(deep.aws.counts.writes).toBe(0);

    const cheap = cloudContext(config([adminRole, adminUser], [viewer]), {
      deep: false,
      outputs: { 'access-entries': outputs },
    });
    expect((await accessEntriesStep.check(cheap.ctx)).status).toBe('up-to-date');
    expect(cheap.aws.counts.calls).toEqual(['sts:GetCallerIdentity']);
  });

  it('removes an admin dropped from the config, and only that', async () => {
    const { ctx } = cloudContext(config([adminUser], [viewer]), { outputs: { 'access-entries': outputs } });
    const check = await accessEntriesStep.check(ctx);
    expect(check).toMatchObject({
      status: 'drift',
      changes: [`- aws-auth mapRoles arn:aws:iam::${acct}:role/${name}-admins`],
    });
    outputs = (await accessEntriesStep.apply(ctx)) ?? {};
    expect(outputs).toEqual({ mode: 'aws-auth', admins: [adminUser], readOnly: [] });
    expect((await mapRoles()).map((r) => r.rolearn)).toEqual([nodeRole, viewer]);
  });

  it('destroy removes only platctl’s entries and its binding', async () => {
    const { ctx } = cloudContext(config([adminUser], [viewer]), { outputs: { 'access-entries': outputs } });
    await accessEntriesStep.destroy(ctx);
    const cm = await readAuth();
    expect((await mapRoles()).map((r) => r.rolearn)).toEqual([nodeRole, viewer]);
    expect(parse(cm?.data?.mapUsers ?? '[]')).toEqual([]);
    expect(cm?.metadata.annotations?.[MANAGED_ANNOTATION]).toBe('[]');
    expect(await kube.get(READ_ONLY_BINDING)).toBeUndefined();
  });

  it('creates aws-auth when absent, and deletes it again on destroy when it made it', async () => {
    await kube.delete(AWS_AUTH_REF);
    const { ctx } = cloudContext(config([adminUser], []));
    const out = (await accessEntriesStep.apply(ctx)) ?? {};
    const cm = await readAuth();
    expect(cm?.metadata.annotations?.['platctl.io/created']).toBe('true');
    expect(parse(cm?.data?.mapUsers ?? '')).toHaveLength(1);
    await accessEntriesStep.destroy(cloudContext(config([adminUser], []), { outputs: { 'access-entries': out } }).ctx);
    expect(await readAuth()).toBeUndefined();
  });
});

describe('before the cluster exists (moto)', () => {
  it('checks absent (a dry run can list the grants), apply fails naming the cluster, destroy is a no-op', async () => {
    const missing = uniqueName('nocluster');
    const cluster = labCluster(env, missing, { access: { admins: [adminUser], readOnly: [] } });
    expect(await accessEntriesStep.check(cloudContext(cluster).ctx)).toEqual({
      status: 'absent',
      detail: `EKS cluster ${missing} does not exist yet`,
      changes: [`+ access for ${adminUser} (admin)`],
    });
    const err = await accessEntriesStep.apply(cloudContext(cluster).ctx).catch((e: unknown) => e);
    expect(isPlatctlError(err) && err.message).toBe(`EKS cluster ${missing} does not exist`);
    const { ctx, aws } = cloudContext(cluster);
    await accessEntriesStep.destroy(ctx);
    expect(aws.counts.writes).toBe(0);
  });
});

describe('EKS access entries (fake EKS API)', () => {
  const cluster = (admins: string[], readOnly: string[]) => labCluster(env, 'fake', { access: { admins, readOnly } });
  const alice = `arn:aws:iam::${acct}:user/alice`;
  const ops = `arn:aws:iam::${acct}:role/ops`;
  const auditors = `arn:aws:iam::${acct}:role/auditors`;

  it('creates tagged entries with the right policies; an entry platctl did not make only gets its policy', async () => {
    const fake = fakeEks({ existing: { [auditors]: { tags: {}, policies: [] } } });
    const { ctx } = cloudContext(cluster([alice, ops], [auditors, ops]), { aws: fake.aws });
    expect((await accessEntriesStep.check(ctx)).changes).toEqual([
      `+ access entry ${ops} (admin)`,
      `+ access entry ${alice} (admin)`,
      `~ access entry ${auditors}: associate arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy`,
    ]);
    const outputs = (await accessEntriesStep.apply(ctx)) ?? {};
    expect(outputs).toEqual({ mode: 'access-entries', admins: [ops, alice], readOnly: [] });
    expect(fake.entries.get(alice)).toEqual({
      tags: { 'platctl.io/cluster': 'fake', 'platctl.io/step': 'access-entries' },
      policies: ['arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy'],
    });
    expect(fake.entries.get(auditors)).toEqual({
      tags: {},
      policies: ['arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy'],
    });
    expect(fake.scopes).toEqual(['cluster', 'cluster', 'cluster']);

    // Re-run: up to date, no writes; the cheap check is one list call.
    fake.calls.length = 0;
    const again = cloudContext(cluster([alice, ops], [auditors]), {
      aws: fake.aws,
      outputs: { 'access-entries': outputs },
    });
    expect((await accessEntriesStep.check(again.ctx)).status).toBe('up-to-date');
    const cheap = cloudContext(cluster([alice, ops], [auditors]), {
      aws: fake.aws,
      deep: false,
      outputs: { 'access-entries': outputs },
    });
    fake.calls.length = 0;
    expect((await accessEntriesStep.check(cheap.ctx)).status).toBe('up-to-date');
    expect(fake.calls).toEqual(['ListAccessEntries']);
    expect(fake.writes()).toBe(0);

    // Destroy removes platctl's entries and leaves the hand-made one.
    await accessEntriesStep.destroy(
      cloudContext(cluster([], []), { aws: fake.aws, outputs: { 'access-entries': outputs } }).ctx,
    );
    expect([...fake.entries.keys()]).toEqual([auditors]);
  });

  it('uses aws-auth when the cluster’s authenticationMode is CONFIG_MAP', async () => {
    const fake = fakeEks({ authenticationMode: 'CONFIG_MAP' });
    const fakeKube = { get: async () => undefined } as unknown as KubeClient;
    const { ctx } = cloudContext(cluster([alice], []), { aws: fake.aws, kube: async () => fakeKube });
    expect((await accessEntriesStep.check(ctx)).changes).toEqual([`+ aws-auth mapUsers ${alice} (system:masters)`]);
    expect(fake.calls).toEqual(['DescribeCluster']);
  });

  it('AccessDenied names the action, the resource and the caller', async () => {
    const fake = fakeEks({ deny: 'CreateAccessEntry' });
    const { ctx } = cloudContext(cluster([alice], []), { aws: fake.aws });
    const err = await accessEntriesStep.apply(ctx).catch((e: unknown) => e);
    expect(isPlatctlError(err) && err.message).toBe(
      `AWS denied eks:CreateAccessEntry on access entry ${alice} on EKS cluster fake to arn:aws:iam::${acct}:user/tester`,
    );
  });

  it('rejects principals that are not IAM role or user ARNs', async () => {
    const { ctx } = cloudContext(cluster([`arn:aws:sts::${acct}:assumed-role/x/y`], []), { aws: fakeEks({}).aws });
    const err = await accessEntriesStep.check(ctx).catch((e: unknown) => e);
    expect(isPlatctlError(err) && err.code).toBe('CONFIG_INVALID');
  });
});
