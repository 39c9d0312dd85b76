/**
 * The Vault init intent, mirrored into the cluster (ConfigMap platctl-system/platctl-vault-init-intent). The
 * local intent file explains a lost init answer on the machine that ran it; this copy lets a run from any
 * other machine (state lives in the cluster) find it too, so no machine ever takes a lost init for one made
 * "outside platctl". It holds no secret: who, when, and the key fingerprints.
 */
import type { KubeClient } from '../clients/kube.js';
import { ensureSystemNamespace, SYSTEM_NAMESPACE } from '../state/configmap.js';

/** The intent recorded before the init call: no secrets, just enough to explain a lost answer. */
export interface InitIntent {
  cluster: string;
  vaultAddr: string;
  startedAt: string;
  by: string;
  sealType: string;
  shares: number;
  threshold: number;
  fingerprints: string[];
  rootTokenFingerprint: string;
}

const NAME = 'platctl-vault-init-intent';
const KEY = 'intent.json';
const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: SYSTEM_NAMESPACE, name: NAME };

/** Where the copy lives, for messages. */
export const CLUSTER_INTENT = `ConfigMap ${SYSTEM_NAMESPACE}/${NAME}`;

/** Writes the intent into the cluster (before the init call). */
export async function recordIntentInCluster(kube: KubeClient, intent: InitIntent): Promise<void> {
  await ensureSystemNamespace(kube);
  await kube.apply(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: NAME, namespace: SYSTEM_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'platctl' } },
      data: { [KEY]: JSON.stringify(intent) },
    },
    { force: true },
  );
}

/** The intent recorded in the cluster, if any. */
export async function readIntentInCluster(kube: KubeClient): Promise<InitIntent | undefined> {
  const cm = (await kube.get(ref)) as { data?: Record<string, string> } | undefined;
  const text = cm?.data?.[KEY];
  return text ? (JSON.parse(text) as InitIntent) : undefined;
}

/** Removes the cluster's copy (once the output is safe on disk). */
export async function clearIntentInCluster(kube: KubeClient): Promise<void> {
  await kube.delete(ref);
}
