/**
 * Step `storage` against the lab: the lab's helm installs the upstream aws-ebs-csi-driver chart 2.64.0, the
 * deployment/daemonset controllers, kube-scheduler and kwok roll it out, and the step makes the default gp3
 * class. A claim then binds the way it does on EKS: the scheduler picks a node, the lab's EBS provisioner (which
 * plays the driver's controller, see test/lab/ebs-provisioner.ts) creates an encrypted volume in moto's EC2 with
 * the class's KMS key, and the real PV controller binds it. A claim without a usable class stays Pending.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteVolumeCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient, KubeObject } from '../../src/clients/kube.js';
import { deleteAndWait } from '../../src/clients/namespaces.js';
import { storageStep } from '../../steps/storage.js';
import { labCluster, labContext, runStepOnce } from '../helpers/helm-context.js';
import { ensureEbsKey, seedOutputs, storageOutputs } from '../helpers/lab-storage.js';
import { lab } from '../lab/env.js';

const env = lab();
const name = `storage-${process.pid}`;
const ns = `storage-${process.pid}`;
const cluster = labCluster(env, name);
const outputs = storageOutputs(cluster);
const aws = { endpoint: env.awsEndpoint, region: env.region, credentials: env };
const ec2 = new EC2Client(aws);
const scRef = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name: 'gp3' };
const nsRef = { apiVersion: 'v1', kind: 'Namespace', name: ns };
let kube: KubeClient;
let home: string;

type Pvc = KubeObject & { spec: { volumeName?: string }; status: { phase: string } };
type Pv = KubeObject & { spec: { csi: { driver: string; volumeHandle: string }; storageClassName: string } };

/** A claim (class `sc`, or the default when undefined) and a pod mounting it. */
async function claimAndPod(claim: string, sc?: string): Promise<void> {
  await kube.create({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claim, namespace: ns },
    spec: {
      ...(sc === undefined ? {} : { storageClassName: sc }),
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '10Gi' } },
    },
  });
  await kube.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `use-${claim}`, namespace: ns },
    spec: {
      containers: [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }],
    },
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'platctl-storage-'));
  process.env.PLATCTL_HOME = home;
  kube = await labContext(env, cluster).kube();
  await ensureEbsKey(env, cluster);
  // The iam and kms steps ran earlier in the pipeline: their outputs are in state.
  await seedOutputs(env, cluster, outputs);
});
afterAll(async () => {
  if (await kube.get(nsRef)) await deleteAndWait(kube, nsRef);
  await storageStep.destroy(labContext(env, cluster, { outputs }));
  await rm(home, { recursive: true, force: true });
});

describe('storage step (lab)', () => {
  it('dry run: absent, naming the chart release, the class and the EBS key by alias ARN', async () => {
    const r = await storageStep.check(labContext(env, cluster, { outputs, dryRun: true }));
    expect(r.status).toBe('absent');
    const text = r.changes?.join('\n') ?? '';
    expect(text).toContain('+ helm release kube-system/aws-ebs-csi-driver');
    expect(text).toContain('+ StorageClass gp3 (default, gp3, encrypted)');
    expect(text).toContain(`arn:aws:kms:us-east-1:123456789012:alias/platctl/${name}/ebs`);
  });

  it('installs the driver with the IRSA role, waits for it to roll out, and makes the default encrypted gp3 class', async () => {
    const ctx = labContext(env, cluster, { outputs });
    const report = await runStepOnce(ctx, storageStep);
    expect(report.steps[0]).toMatchObject({
      result: 'applied',
      outputs: {
        storageClass: 'gp3',
        kmsKeyId: `arn:aws:kms:us-east-1:123456789012:alias/platctl/${name}/ebs`,
        driver: 'installed',
      },
    });
    type Dep = KubeObject & {
      spec: { template: { spec: { containers: { name: string; args: string[] }[] } } };
      status: { availableReplicas?: number };
    };
    const dep = await kube.get<Dep>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'kube-system',
      name: 'ebs-csi-controller',
    });
    expect(dep?.status.availableReplicas).toBe(2);
    const plugin = dep?.spec.template.spec.containers.find((c) => c.name === 'ebs-plugin');
    expect(plugin?.args).toContain(`--k8s-tag-cluster-id=${name}`);
    expect(plugin?.args.find((a) => a.startsWith('--extra-tags='))).toContain(`platctl.io/cluster=${name}`);
    const sa = await kube.get({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      namespace: 'kube-system',
      name: 'ebs-csi-controller-sa',
    });
    expect(sa?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(outputs.iam?.ebsCsiRoleArn);
    const sc = await kube.get<KubeObject & { parameters: Record<string, string>; volumeBindingMode: string }>(scRef);
    expect(sc?.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']).toBe('true');
    expect(sc?.parameters).toMatchObject({
      type: 'gp3',
      encrypted: 'true',
      kmsKeyId: expect.stringContaining(`alias/platctl/${name}/ebs`),
    });
    expect(sc?.volumeBindingMode).toBe('WaitForFirstConsumer');
  });

  it('a re-run is up to date: two API reads, no helm, no writes', async () => {
    const ctx = labContext(env, cluster, { outputs });
    const report = await runStepOnce(ctx, storageStep);
    expect(report.steps[0]?.result).toBe('up-to-date');
    expect(ctx.exec.calls).toHaveLength(0);
    expect((await ctx.kubeClient()).counts).toMatchObject({ reads: 2, writes: 0 });
  });

  it("a claim of the default class binds to an encrypted EBS volume made in its pod's zone with the class's key", async () => {
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await claimAndPod('data');
    const pvc = await until('claim bound', async () => {
      const c = await kube.get<Pvc>({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: 'data' });
      return c?.status.phase === 'Bound' ? c : undefined;
    });
    const pv = await kube.get<Pv>({ apiVersion: 'v1', kind: 'PersistentVolume', name: pvc.spec.volumeName ?? '' });
    expect(pv?.spec.csi.driver).toBe('ebs.csi.aws.com');
    expect(pv?.spec.storageClassName).toBe('gp3');
    const vols = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [pv?.spec.csi.volumeHandle ?? ''] }));
    const vol = vols.Volumes?.[0];
    const key = await new KMSClient(aws).send(new DescribeKeyCommand({ KeyId: `alias/platctl/${name}/ebs` }));
    expect(vol).toMatchObject({ Encrypted: true, VolumeType: 'gp3', Size: 10 });
    expect([key.KeyMetadata?.Arn, `arn:aws:kms:us-east-1:123456789012:alias/platctl/${name}/ebs`]).toContain(
      vol?.KmsKeyId,
    );
    type Pod = KubeObject & { spec: { nodeName: string } };
    const pod = await until('pod placed', async () => {
      const p = await kube.get<Pod>({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'use-data' });
      return p?.spec.nodeName ? p : undefined;
    });
    const node = await kube.get({ apiVersion: 'v1', kind: 'Node', name: pod.spec.nodeName });
    expect(vol?.AvailabilityZone).toBe(node?.metadata.labels?.['topology.kubernetes.io/zone']);
    const tags = Object.fromEntries((vol?.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({
      'platctl.io/cluster': name,
      'ebs.csi.aws.com/cluster': 'true',
      KubernetesCluster: name,
    });
  });

  it('a claim of a class that does not exist stays Pending, and so does its pod', async () => {
    await claimAndPod('lost', 'no-such-class');
    await new Promise((r) => setTimeout(r, 5000));
    const c = await kube.get<Pvc>({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: 'lost' });
    expect(c?.status.phase).toBe('Pending');
    const pod = await kube.get<KubeObject & { status: { phase: string } }>({
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: ns,
      name: 'use-lost',
    });
    expect(pod?.status.phase).toBe('Pending');
  });

  it('teardown: deleted claims go with their volumes first; the class and the driver go; a claim still in use is named', async () => {
    // One claim in use elsewhere survives the teardown of this step: it must be named, volume by volume.
    const keep = `${ns}-keep`;
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: keep } });
    try {
      await kube.create({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'kept', namespace: keep },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      });
      await kube.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'user', namespace: keep },
        spec: {
          containers: [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
          volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'kept' } }],
        },
      });
      const kept = await until('kept bound', async () => {
        const c = await kube.get<Pvc>({
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: keep,
          name: 'kept',
        });
        return c?.status.phase === 'Bound' ? c : undefined;
      });
      const keptPv = await kube.get<Pv>({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        name: kept.spec.volumeName ?? '',
      });
      const data = await kube.get<Pvc>({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: ns,
        name: 'data',
      });
      const dataPv = await kube.get<Pv>({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        name: data?.spec.volumeName ?? '',
      });
      await deleteAndWait(kube, nsRef);

      const ctx = labContext(env, cluster, { outputs });
      await storageStep.destroy(ctx);
      const log = ctx.log.lines.join('\n');
      expect(await kube.get(scRef)).toBeUndefined();
      expect(
        await kube.get({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: 'kube-system',
          name: 'ebs-csi-controller',
        }),
      ).toBeUndefined();
      // The deleted claim's volume was deleted by the driver before the driver went.
      expect(
        await kube.get({ apiVersion: 'v1', kind: 'PersistentVolume', name: dataPv?.metadata.name ?? '' }),
      ).toBeUndefined();
      const gone = await ec2.send(
        new DescribeVolumesCommand({ Filters: [{ Name: 'volume-id', Values: [dataPv?.spec.csi.volumeHandle ?? ''] }] }),
      );
      expect(gone.Volumes ?? []).toEqual([]);
      expect(log).toContain('1 EBS volume(s) left behind');
      expect(log).toContain(
        `${keptPv?.spec.csi.volumeHandle}: PV ${keptPv?.metadata.name} (Bound, claim ${keep}/kept, 1Gi, reclaim Delete)`,
      );
    } finally {
      // The kept volume's driver is gone: clean up by hand, as an operator would.
      await deleteAndWait(kube, { apiVersion: 'v1', kind: 'Namespace', name: keep });
      for (const pv of await kube.list<Pv>('v1', 'PersistentVolume')) {
        if (pv.spec.csi?.driver !== 'ebs.csi.aws.com' || pv.spec.storageClassName !== 'gp3') continue;
        await kube.patch(
          { apiVersion: 'v1', kind: 'PersistentVolume', name: pv.metadata.name },
          { metadata: { finalizers: null } },
        );
        await kube.delete({ apiVersion: 'v1', kind: 'PersistentVolume', name: pv.metadata.name });
        await ec2.send(new DeleteVolumeCommand({ VolumeId: pv.spec.csi.volumeHandle })).catch(() => undefined);
      }
    }
  });
});
