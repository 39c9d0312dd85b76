/**
 * The EBS volumes of a cluster as Kubernetes sees them: PersistentVolumes of the `ebs.csi.aws.com` driver. Before
 * teardown removes the driver it waits for the ones Kubernetes is deleting (a released claim, reclaim policy
 * Delete: the driver deletes the EBS volume, then the PV goes), because a volume released after its driver is gone
 * is never deleted. Whatever is left is named, volume by volume: it outlives the cluster and keeps costing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient, KubeObject } from '../clients/kube.js';
import { EBS_DRIVER, EBS_NAMESPACE, EBS_RELEASE } from './values.js';

/** A PersistentVolume, the fields read here. */
export type PersistentVolume = KubeObject & {
  spec?: {
    csi?: { driver?: string; volumeHandle?: string };
    claimRef?: { namespace?: string; name?: string };
    persistentVolumeReclaimPolicy?: string;
    capacity?: { storage?: string };
  };
  status?: { phase?: string };
};

/** Who installed the CSI driver: platctl's release, someone else (the EKS add-on), or nobody. */
export type ByDriver = 'platctl' | 'other' | undefined;

/** Reads the CSIDriver object: helm's ownership annotations say whether it is platctl's release. */
export async function driverOwner(kube: KubeClient): Promise<ByDriver> {
  const d = await kube.get({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', name: EBS_DRIVER });
  if (!d) return undefined;
  const a = d.metadata.annotations ?? {};
  const ours = a['meta.helm.sh/release-name'] === EBS_RELEASE && a['meta.helm.sh/release-namespace'] === EBS_NAMESPACE;
  return ours ? 'platctl' : 'other';
}

/** The driver's PersistentVolumes. */
export async function ebsVolumes(kube: KubeClient): Promise<PersistentVolume[]> {
  const pvs = await kube.list<PersistentVolume>('v1', 'PersistentVolume');
  return pvs.filter((pv) => pv.spec?.csi?.driver === EBS_DRIVER);
}

/** True when Kubernetes is on its way to deleting the volume (its claim is gone and the policy is Delete). */
async function beingDeleted(kube: KubeClient, pv: PersistentVolume): Promise<boolean> {
  if (pv.metadata.deletionTimestamp) return true;
  if (pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return false;
  if (pv.status?.phase === 'Released') return true;
  const c = pv.spec?.claimRef;
  if (!c?.name) return false;
  // Still Bound to a claim that was just deleted: the PV controller has not caught up yet.
  const ref = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: c.namespace, name: c.name };
  return (await kube.get(ref)) === undefined;
}

/**
 * Waits (bounded) until no volume is being deleted; returns the driver's volumes still there: the ones in use
 * or retained, and any the driver did not delete in time.
 */
export async function waitForReleasedVolumes(
  kube: KubeClient,
  o: { timeoutMs: number; progress: (m: string) => void; pollMs?: number },
): Promise<PersistentVolume[]> {
  const started = Date.now();
  for (;;) {
    const pvs = await ebsVolumes(kube);
    const deleting = (await Promise.all(pvs.map((pv) => beingDeleted(kube, pv)))).filter(Boolean).length;
    if (deleting === 0 || Date.now() - started >= o.timeoutMs) return pvs;
    o.progress(
      `waiting for the driver to delete ${deleting} released volume(s): ${Math.round((Date.now() - started) / 1000)}s`,
    );
    await sleep(o.pollMs ?? 1000);
  }
}

/** Warning lines naming every volume left behind (empty when none). */
export function leftoverLines(pvs: readonly PersistentVolume[]): string[] {
  if (pvs.length === 0) return [];
  return [
    `${pvs.length} EBS volume(s) left behind: they outlive the cluster and keep costing until deleted`,
    ...pvs.map((pv) => {
      const c = pv.spec?.claimRef;
      const claim = c?.name ? `, claim ${c.namespace}/${c.name}` : '';
      const size = pv.spec?.capacity?.storage ? `, ${pv.spec.capacity.storage}` : '';
      return `  ${pv.spec?.csi?.volumeHandle ?? '(no volume id)'}: PV ${pv.metadata.name} (${pv.status?.phase ?? 'unknown'}${claim}${size}, reclaim ${pv.spec?.persistentVolumeReclaimPolicy ?? '?'})`;
    }),
  ];
}
