/**
 * LAB COMPONENT THAT PLAYS A PART: the EBS CSI driver's controller for `ebs.csi.aws.com` (its csi-provisioner
 * sidecar and the driver's CreateVolume/DeleteVolume). No CSI driver can run in the lab (no containers), so this
 * host process does what the `ebs-csi-controller` pod would, and only while such a pod is Running (kwok's), with
 * the args platctl's chart values gave it (`--extra-tags`, `--k8s-tag-cluster-id`):
 * - a claim of a StorageClass with that provisioner, once the scheduler has picked a node (WaitForFirstConsumer,
 *   `volume.kubernetes.io/selected-node`): checks the KMS key the class names (`kmsKeyId`) in moto's KMS, creates
 *   the volume in moto's EC2 in the node's zone (type, encryption and key from the class, the driver's tags),
 *   then creates the PersistentVolume with a claimRef. The real PV controller binds the two.
 * - a released PersistentVolume it provisioned, reclaim Delete: deletes the EC2 volume, then the PV.
 * A claim without a usable class, or while no driver runs, stays Pending, as on EKS. Attach/detach is not played.
 * Events (ProvisioningSucceeded / ProvisioningFailed) go on the claim, as csi-provisioner writes them.
 * Said in docs/lab.md too.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { CreateVolumeCommand, DeleteVolumeCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CoreV1Api,
  KubeConfig,
  StorageV1Api,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import { AWS_LAB, LAB_SRC } from './config.js';
import { HOST, type Ports } from './ports.js';
import { httpStatus, type ServiceSpec } from './service.js';

const DRIVER = 'ebs.csi.aws.com';
const FINALIZER = 'external-provisioner.volume.kubernetes.io/finalizer';
const GiB = 1024 ** 3;

/** The service: this file run by node with tsx, against the lab apiserver and moto. */
export function ebsProvisionerSpec(ports: Ports, kubeconfig: string, awsEndpoint: string): ServiceSpec {
  const url = `http://${HOST}:${ports.ebsProvisioner}`;
  return {
    name: 'ebs-provisioner',
    version: 'lab',
    address: url,
    cmd: process.execPath,
    args: [
      `--import=${pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href}`,
      join(LAB_SRC, 'ebs-provisioner.ts'),
      kubeconfig,
      awsEndpoint,
      String(ports.ebsProvisioner),
    ],
    ready: async () => (await httpStatus(`${url}/healthz`)) === 200,
  };
}

/** What the running controller pod was told (its ebs-plugin args). */
interface DriverArgs {
  extraTags: Record<string, string>;
  clusterId?: string;
}

class Provisioner {
  private readonly core: CoreV1Api;
  private readonly storage: StorageV1Api;
  private readonly ec2: EC2Client;
  private readonly kms: KMSClient;

  constructor(kubeconfig: string, endpoint: string) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    this.core = kc.makeApiClient(CoreV1Api);
    this.storage = kc.makeApiClient(StorageV1Api);
    const aws = { endpoint, region: AWS_LAB.region, credentials: AWS_LAB };
    this.ec2 = new EC2Client(aws);
    this.kms = new KMSClient(aws);
  }

  /** The Running ebs-csi-controller pod's args, or undefined when none runs (then nothing is provisioned). */
  async driver(): Promise<DriverArgs | undefined> {
    const pods = await this.core.listPodForAllNamespaces({ labelSelector: 'app=ebs-csi-controller' });
    const pod = pods.items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    if (!pod) return undefined;
    const args = pod.spec?.containers.find((c) => c.name === 'ebs-plugin')?.args ?? [];
    const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
    const pairs = (arg('extra-tags') ?? '').split(',').filter(Boolean);
    const extraTags = Object.fromEntries(
      pairs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    return { extraTags, clusterId: arg('k8s-tag-cluster-id') };
  }

  async tick(): Promise<void> {
    const d = await this.driver();
    if (!d) return;
    const claims = await this.core.listPersistentVolumeClaimForAllNamespaces();
    for (const pvc of claims.items) {
      const a = pvc.metadata?.annotations ?? {};
      if (a['volume.kubernetes.io/storage-provisioner'] !== DRIVER || pvc.spec?.volumeName) continue;
      if (pvc.status?.phase !== 'Pending' || pvc.metadata?.deletionTimestamp) continue;
      await this.provision(pvc, d).catch((err: unknown) => this.event(pvc, 'ProvisioningFailed', String(err)));
    }
    const pvs = await this.core.listPersistentVolume();
    for (const pv of pvs.items) {
      const ours = pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] === DRIVER;
      if (ours && pv.status?.phase === 'Released' && pv.spec?.persistentVolumeReclaimPolicy === 'Delete')
        await this.remove(pv).catch((err: unknown) => console.log(`delete ${pv.metadata?.name}: ${String(err)}`));
    }
  }

  private async provision(pvc: V1PersistentVolumeClaim, d: DriverArgs): Promise<void> {
    const ns = pvc.metadata?.namespace ?? 'default';
    const claim = pvc.metadata?.name ?? '';
    const pvName = `pvc-${pvc.metadata?.uid}`;
    const nodeName = pvc.metadata?.annotations?.['volume.kubernetes.io/selected-node'];
    const sc = await this.storage.readStorageClass({ name: pvc.spec?.storageClassName ?? '' });
    // WaitForFirstConsumer: nothing until the scheduler has picked the pod's node.
    if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !nodeName) return;
    if (await this.core.readPersistentVolume({ name: pvName }).catch(() => undefined)) return;
    const node = nodeName ? await this.core.readNode({ name: nodeName }) : undefined;
    const zone = node?.metadata?.labels?.['topology.kubernetes.io/zone'] ?? `${AWS_LAB.region}a`;
    const p = sc.parameters ?? {};
    const encrypted = p.encrypted === 'true';
    if (p.kmsKeyId) await this.kms.send(new DescribeKeyCommand({ KeyId: p.kmsKeyId }));
    const sizeGi = Math.max(1, Math.ceil(bytes(pvc.spec?.resources?.requests?.storage ?? '1Gi') / GiB));
    const tags: Record<string, string> = {
      ...d.extraTags,
      CSIVolumeName: pvName,
      'ebs.csi.aws.com/cluster': 'true',
      'kubernetes.io/created-for/pvc/name': claim,
      'kubernetes.io/created-for/pvc/namespace': ns,
      'kubernetes.io/created-for/pv/name': pvName,
      ...(d.clusterId ? { KubernetesCluster: d.clusterId, [`kubernetes.io/cluster/${d.clusterId}`]: 'owned' } : {}),
    };
    const existing = await this.ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'tag:CSIVolumeName', Values: [pvName] }] }),
    );
    const volumeId =
      existing.Volumes?.[0]?.VolumeId ??
      (
        await this.ec2.send(
          new CreateVolumeCommand({
            AvailabilityZone: zone,
            Size: sizeGi,
            VolumeType: (p.type ?? 'gp3') as 'gp3',
            Encrypted: encrypted,
            KmsKeyId: encrypted ? p.kmsKeyId : undefined,
            TagSpecifications: [
              { ResourceType: 'volume', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
            ],
          }),
        )
      ).VolumeId;
    const pv: V1PersistentVolume = {
      metadata: { name: pvName, annotations: { 'pv.kubernetes.io/provisioned-by': DRIVER }, finalizers: [FINALIZER] },
      spec: {
        capacity: { storage: `${sizeGi}Gi` },
        accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: sc.metadata?.name,
        volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
        claimRef: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: ns,
          name: claim,
          uid: pvc.metadata?.uid,
        },
        csi: { driver: DRIVER, volumeHandle: volumeId ?? '', fsType: p['csi.storage.k8s.io/fstype'] ?? 'ext4' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [zone] }] },
            ],
          },
        },
      },
    };
    await this.core.createPersistentVolume({ body: pv });
    await this.event(
      pvc,
      'ProvisioningSucceeded',
      `Successfully provisioned volume ${pvName} (${volumeId} in ${zone})`,
    );
    console.log(`provisioned ${ns}/${claim}: ${pvName} ${volumeId} ${zone} ${sizeGi}Gi encrypted=${encrypted}`);
  }

  private async remove(pv: V1PersistentVolume): Promise<void> {
    const name = pv.metadata?.name ?? '';
    const vol = pv.spec?.csi?.volumeHandle;
    if (vol) {
      await this.ec2.send(new DeleteVolumeCommand({ VolumeId: vol })).catch((err: { name?: string }) => {
        if (err.name !== 'InvalidVolume.NotFound') throw err;
      });
    }
    const finalizers = (pv.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER);
    await this.core.replacePersistentVolume({ name, body: { ...pv, metadata: { ...pv.metadata, finalizers } } });
    await this.core.deletePersistentVolume({ name }).catch(() => undefined);
    console.log(`deleted ${name}: ${vol}`);
  }

  private async event(pvc: V1PersistentVolumeClaim, reason: string, message: string): Promise<void> {
    const namespace = pvc.metadata?.namespace ?? 'default';
    const now = new Date();
    await this.core
      .createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${pvc.metadata?.name}.`, namespace },
          involvedObject: {
            kind: 'PersistentVolumeClaim',
            namespace,
            name: pvc.metadata?.name,
            uid: pvc.metadata?.uid,
          },
          reason,
          message,
          type: reason.endsWith('Failed') ? 'Warning' : 'Normal',
          source: { component: `${DRIVER}_lab-ebs-provisioner` },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      })
      .catch(() => undefined);
    if (reason.endsWith('Failed')) console.log(`${namespace}/${pvc.metadata?.name}: ${reason}: ${message}`);
  }
}

/** "10Gi", "500Mi", "1G", "1073741824" in bytes. */
export function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGTE]i?)?$/.exec(q.trim());
  if (!m) return GiB;
  const unit = m[2] ?? '';
  const pow = { K: 1, M: 2, G: 3, T: 4, E: 6 }[unit[0] as 'K'] ?? 0;
  return Number(m[1]) * (unit.endsWith('i') ? 1024 : 1000) ** pow;
}

async function main(kubeconfig: string, endpoint: string, port: number): Promise<void> {
  const p = new Provisioner(kubeconfig, endpoint);
  let healthy = false;
  createServer((req, res) => {
    res.writeHead(req.url === '/healthz' && healthy ? 200 : 503).end();
  }).listen(port, HOST);
  for (;;) {
    try {
      await p.tick();
      healthy = true;
    } catch (err) {
      console.log(`tick: ${String(err)}`);
    }
    await sleep(500);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [kubeconfig, endpoint, port] = process.argv.slice(2);
  void main(kubeconfig ?? '', endpoint ?? '', Number(port));
}
