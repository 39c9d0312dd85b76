/**
 * prepareTeardown against the lab: real Flux CRDs and objects, real Services and Ingresses in the real
 * kube-apiserver, real ELBv2 load balancers, security groups and ENIs in moto. Nothing in the lab plays the
 * AWS Load Balancer Controller, so the tests do: they drop the finalizers the controller would drop and delete
 * the load balancer it would delete (each place says so).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/clients/aws.js';
import { connectKube, type KubeClient, type KubeObject } from '../../src/clients/kube.js';
import { isPlatctlError } from '../../src/errors.js';
import { prepareTeardown } from '../../src/teardown/prepare.js';
import { clusterConfig } from '../helpers/config.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import {
  createAlb,
  deleteLabVpc,
  deleteLb,
  installFluxCrds,
  labAws,
  labVpc,
  scopedKube,
  tagSpec,
  uniqueName,
} from '../helpers/teardown-context.js';
import { lab } from '../lab/env.js';

let aws: AwsClients;
let kube: KubeClient;
let vpc: { vpcId: string; subnetIds: string[] };
let ns: string;
let cluster: string;
const cleanups: (() => Promise<unknown>)[] = [];

const K = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' };
const HR = { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease' };
const SVC = { apiVersion: 'v1', kind: 'Service' };
const ING = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' };

const kustomization = (name: string, suspend: boolean): KubeObject => ({
  ...K,
  metadata: { name, namespace: ns },
  spec: { interval: '10m', prune: true, suspend, sourceRef: { kind: 'GitRepository', name: 'flux-system' } },
});
const helmRelease = (name: string): KubeObject => ({
  ...HR,
  metadata: { name, namespace: ns },
  spec: {
    interval: '10m',
    chart: { spec: { chart: 'podinfo', sourceRef: { kind: 'HelmRepository', name: 'podinfo' } } },
  },
});
const service = (name: string, type: string, finalizers?: string[]): KubeObject => ({
  ...SVC,
  metadata: { name, namespace: ns, ...(finalizers ? { finalizers } : {}) },
  spec: { type, selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
});
const ingress = (name: string, finalizers?: string[]): KubeObject => ({
  ...ING,
  metadata: { name, namespace: ns, ...(finalizers ? { finalizers } : {}) },
  spec: {
    rules: [
      {
        http: {
          paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }],
        },
      },
    ],
  },
});
const dropFinalizers = (ref: { apiVersion: string; kind: string; name: string }) =>
  kube.patch({ ...ref, namespace: ns }, { metadata: { finalizers: null } }).catch(() => undefined);

function context(dryRun = false) {
  const log = memoryLogger();
  const progress: string[] = [];
  return {
    log,
    progress,
    ctx: {
      kube: async () => scopedKube(kube, ns),
      aws,
      cluster: clusterConfig(cluster),
      log,
      progress: (m: string) => progress.push(m),
      dryRun,
    },
  };
}

async function ec2Tagged(kind: 'sg' | 'eni', tags: Record<string, string>): Promise<string> {
  const {
    CreateSecurityGroupCommand,
    CreateNetworkInterfaceCommand,
    DeleteSecurityGroupCommand,
    DeleteNetworkInterfaceCommand,
  } = await import('@aws-sdk/client-ec2');
  const ec2 = await aws.ec2();
  if (kind === 'sg') {
    const g = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: uniqueName('k8s-elb'),
        Description: 'made by a load balancer controller',
        VpcId: vpc.vpcId,
        TagSpecifications: tagSpec('security-group', tags),
      }),
    );
    cleanups.push(() => ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId })));
    return g.GroupId ?? '';
  }
  const n = await ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: vpc.subnetIds[0],
      Description: 'aws-K8S-i-0123',
      TagSpecifications: tagSpec('network-interface', tags),
    }),
  );
  cleanups.push(() =>
    ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: n.NetworkInterface?.NetworkInterfaceId })),
  );
  return n.NetworkInterface?.NetworkInterfaceId ?? '';
}

beforeAll(async () => {
  aws = labAws(lab());
  kube = await connectKube({ kubeconfig: lab().kubeconfig });
  await installFluxCrds(kube);
  vpc = await labVpc(aws);
});
afterAll(async () => {
  await deleteLabVpc(aws, vpc);
});
beforeEach(async () => {
  ns = uniqueName('td-prep');
  cluster = uniqueName('tdc');
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
});
afterEach(async () => {
  for (const ref of [
    { ...SVC, name: 'web-lb' },
    { ...ING, name: 'web' },
  ])
    await dropFinalizers(ref);
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns });
});

describe('prepareTeardown (lab)', () => {
  it('suspends Flux, deletes LoadBalancer Services and Ingresses, waits for them and the tagged ALB, reports leftovers', async () => {
    await kube.create(kustomization('apps', false));
    await kube.create(kustomization('paused', true));
    await kube.create(helmRelease('podinfo'));
    await kube.create(service('web-lb', 'LoadBalancer', ['service.k8s.aws/resources']));
    await kube.create(service('web', 'ClusterIP'));
    await kube.create(ingress('web', ['ingress.k8s.aws/resources']));
    const alb = await createAlb(aws, uniqueName('k8s-web'), vpc.subnetIds, { 'elbv2.k8s.aws/cluster': cluster });
    cleanups.push(() => deleteLb(aws, alb));
    // Another cluster's load balancer: must neither be waited for nor reported.
    const other = await createAlb(aws, uniqueName('k8s-other'), vpc.subnetIds, {
      'elbv2.k8s.aws/cluster': `${cluster}-x`,
    });
    cleanups.push(() => deleteLb(aws, other));
    const sg = await ec2Tagged('sg', { [`kubernetes.io/cluster/${cluster}`]: 'owned' });
    const eni = await ec2Tagged('eni', { 'elbv2.k8s.aws/cluster': cluster });
    const platctlSg = await ec2Tagged('sg', {
      [`kubernetes.io/cluster/${cluster}`]: 'owned',
      'platctl.io/cluster': cluster,
    });

    const { ctx, log, progress } = context();
    let done = 0;
    const running = prepareTeardown(ctx, { timeoutMs: 60_000, pollMs: 100 }).finally(() => {
      done = Date.now();
    });
    // Playing the AWS Load Balancer Controller: once the Service is being deleted, it deletes the cloud load
    // balancer's listeners and drops the finalizers; the load balancer itself goes a little later.
    for (
      let i = 0;
      i < 100 && !(await kube.get({ ...SVC, namespace: ns, name: 'web-lb' }))?.metadata.deletionTimestamp;
      i++
    )
      await sleep(100);
    await sleep(500);
    expect(done, 'returned while the finalizers were still there').toBe(0);
    await dropFinalizers({ ...SVC, name: 'web-lb' });
    await dropFinalizers({ ...ING, name: 'web' });
    await sleep(1000);
    expect(done, 'returned while the load balancer was still there').toBe(0);
    const lbDeletedAt = Date.now();
    await deleteLb(aws, alb);
    const report = await running;

    expect(done).toBeGreaterThanOrEqual(lbDeletedAt);
    expect(report.suspended.sort()).toEqual([`HelmRelease ${ns}/podinfo`, `Kustomization ${ns}/apps`]);
    expect(report.alreadySuspended).toEqual([`Kustomization ${ns}/paused`]);
    expect(report.deleted.sort()).toEqual([`Ingress ${ns}/web`, `Service ${ns}/web-lb`]);
    expect(report.loadBalancers.map((lb) => lb.arn)).toEqual([alb]);
    expect(report.waitedMs).toBeGreaterThan(1000);
    expect(report.leftovers.map((l) => l.id).sort()).toEqual([eni, sg].sort());
    expect(report.leftovers.map((l) => l.id)).not.toContain(platctlSg);
    expect(log.lines.filter((l) => l.startsWith('⚠')).join('\n')).toContain(sg);
    expect(progress.some((m) => m.includes('load balancer'))).toBe(true);

    for (const [ref, name] of [
      [K, 'apps'],
      [HR, 'podinfo'],
    ] as const) {
      const obj = await kube.get<KubeObject & { spec: { suspend?: boolean } }>({ ...ref, namespace: ns, name });
      expect(obj?.spec.suspend, `${name} suspended`).toBe(true);
    }
    expect(await kube.get({ ...SVC, namespace: ns, name: 'web-lb' })).toBeUndefined();
    expect(await kube.get({ ...ING, namespace: ns, name: 'web' })).toBeUndefined();
    expect(await kube.get({ ...SVC, namespace: ns, name: 'web' }), 'a ClusterIP Service stays').toBeDefined();
  });

  it('times out with a clear error naming what is still there', async () => {
    await kube.create(service('web-lb', 'LoadBalancer', ['service.k8s.aws/resources']));
    const name = uniqueName('k8s-stuck');
    const alb = await createAlb(aws, name, vpc.subnetIds, { [`kubernetes.io/cluster/${cluster}`]: 'owned' });
    cleanups.push(() => deleteLb(aws, alb));
    const { ctx } = context();
    const err = await prepareTeardown(ctx, { timeoutMs: 1500, pollMs: 200 }).catch((e: unknown) => e);
    expect(isPlatctlError(err) && err.code).toBe('LOAD_BALANCER_WAIT_TIMEOUT');
    const message = (err as Error).message;
    expect(message).toMatch(/timed out after \ds/);
    expect(message).toContain(`Service ${ns}/web-lb (finalizers: service.k8s.aws/resources)`);
    expect(message).toContain(`load balancer ${name}`);
    expect((err as { hint?: string }).hint).toContain('finalizers');
  });

  it('fails fast on a load balancer no Service or Ingress owns any more (leaked), naming it', async () => {
    const name = uniqueName('k8s-leak');
    const alb = await createAlb(aws, name, vpc.subnetIds, { 'elbv2.k8s.aws/cluster': cluster });
    cleanups.push(() => deleteLb(aws, alb));
    // A 10 min timeout: failing within the test's own timeout, and not with the timeout's message, is "fast".
    const err = await prepareTeardown(context().ctx, { timeoutMs: 600_000, pollMs: 100, leakGraceMs: 800 }).catch(
      (e: unknown) => e,
    );
    expect(isPlatctlError(err) && err.code).toBe('LOAD_BALANCERS_LEFT');
    expect((err as Error).message).not.toMatch(/timed out after/);
    expect((err as Error).message).toContain(`no Service or Ingress of cluster ${cluster} is left`);
    expect((err as Error).message).toContain(`load balancer ${name} (${alb}`);
  });

  it('in a dry run lists what it would do and writes nothing', async () => {
    await kube.create(kustomization('apps', false));
    await kube.create(service('web-lb', 'LoadBalancer'));
    const alb = await createAlb(aws, uniqueName('k8s-dry'), vpc.subnetIds, { 'platctl.io/cluster': cluster });
    cleanups.push(() => deleteLb(aws, alb));
    const { ctx } = context(true);
    const writesBefore = aws.counts.writes;
    const report = await prepareTeardown(ctx, { timeoutMs: 1000, pollMs: 100 });

    expect(report.dryRun).toBe(true);
    expect(report.suspended).toEqual([`Kustomization ${ns}/apps`]);
    expect(report.deleted).toEqual([`Service ${ns}/web-lb`]);
    expect(report.loadBalancers.map((lb) => lb.arn)).toEqual([alb]);
    expect(aws.counts.writes).toBe(writesBefore);
    const k = await kube.get<KubeObject & { spec: { suspend?: boolean } }>({ ...K, namespace: ns, name: 'apps' });
    expect(k?.spec.suspend).toBe(false);
    expect(await kube.get({ ...SVC, namespace: ns, name: 'web-lb' })).toBeDefined();
  });
});
