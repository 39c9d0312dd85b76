/**
 * The ONE place in the lab that pretends. Pods never run here (no scheduler, no kubelet,
 * and the lab's kube-controller-manager runs no deployment/replicaset/statefulset/daemonset
 * controller), so on request this plays those controllers and Flux's: it writes the status
 * a real controller would write once the work is done. Tests that use it must say so in a comment.
 */
import { createHash } from 'node:crypto';
import {
  AppsV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
} from '@kubernetes/client-node';
import type { LabEnv } from './lab-env.js';

/** A Deployment or StatefulSet. */
export interface WorkloadRef {
  kind: 'Deployment' | 'StatefulSet';
  namespace: string;
  name: string;
}

/** Any namespaced Flux object, e.g. `{ group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations' }`. */
export interface FluxRef {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
}

/** What a Flux controller would report. */
export interface FluxStatus {
  /** Ready condition status; default true. */
  ready?: boolean;
  /** Sets `status.lastAppliedRevision`, `status.lastAttemptedRevision` and `status.artifact.revision`. */
  revision?: string;
  reason?: string;
  message?: string;
  /** More status fields, merged last (e.g. a HelmRelease's `history`). */
  extra?: Record<string, unknown>;
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Short, label-safe hash of a pod template, standing in for the controller's pod-template-hash. */
function templateHash(template: unknown): string {
  return createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
}

/** Plays the workload and Flux controllers against the lab apiserver. */
export class PretendController {
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(kubeconfigPath: string) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** A controller for the given lab. */
  static forLab(env: LabEnv): PretendController {
    return new PretendController(env.kubeconfig);
  }

  /**
   * Reports `readyReplicas` (default: all of `spec.replicas`) ready and available, for the
   * current generation. For a Deployment it also keeps a ReplicaSet of the current template,
   * as the deployment controller would, so `helm --wait` and `kubectl rollout status` agree.
   */
  async setWorkloadReady(ref: WorkloadRef, opts: { readyReplicas?: number } = {}): Promise<void> {
    const { namespace, name } = ref;
    if (ref.kind === 'Deployment') {
      const dep = await this.apps.readNamespacedDeployment({ name, namespace });
      const want = dep.spec?.replicas ?? 1;
      const ready = opts.readyReplicas ?? want;
      await this.ensureReplicaSet(dep, want, ready);
      const available = ready >= want;
      const body = {
        status: {
          observedGeneration: dep.metadata?.generation ?? 1,
          replicas: want,
          updatedReplicas: want,
          readyReplicas: ready,
          availableReplicas: ready,
          unavailableReplicas: Math.max(0, want - ready),
          conditions: [
            condition('Available', available, available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable'),
            condition('Progressing', true, 'NewReplicaSetAvailable'),
          ],
        },
      };
      await this.apps.patchNamespacedDeploymentStatus({ name, namespace, body }, merge);
      return;
    }
    const sts = await this.apps.readNamespacedStatefulSet({ name, namespace });
    const want = sts.spec?.replicas ?? 1;
    const ready = opts.readyReplicas ?? want;
    const revision = `${name}-${templateHash(sts.spec?.template)}`;
    const body = {
      status: {
        observedGeneration: sts.metadata?.generation ?? 1,
        replicas: want,
        currentReplicas: want,
        updatedReplicas: want,
        readyReplicas: ready,
        availableReplicas: ready,
        currentRevision: revision,
        updateRevision: revision,
      },
    };
    await this.apps.patchNamespacedStatefulSetStatus({ name, namespace, body }, merge);
  }

  private async ensureReplicaSet(dep: V1Deployment, want: number, ready: number): Promise<void> {
    const namespace = dep.metadata?.namespace ?? 'default';
    const hash = templateHash(dep.spec?.template);
    const name = `${dep.metadata?.name}-${hash}`;
    const labels = { ...dep.spec?.template?.metadata?.labels, 'pod-template-hash': hash };
    const rs = await this.apps.readNamespacedReplicaSet({ name, namespace }).catch(async () =>
      this.apps.createNamespacedReplicaSet({
        namespace,
        body: {
          metadata: {
            name,
            namespace,
            labels,
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'Deployment',
                name: dep.metadata?.name ?? '',
                uid: dep.metadata?.uid ?? '',
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          spec: {
            replicas: want,
            selector: {
              ...dep.spec?.selector,
              matchLabels: { ...dep.spec?.selector?.matchLabels, 'pod-template-hash': hash },
            },
            template: { ...dep.spec?.template, metadata: { ...dep.spec?.template?.metadata, labels } },
          },
        },
      }),
    );
    const body = {
      status: {
        observedGeneration: rs.metadata?.generation ?? 1,
        replicas: want,
        fullyLabeledReplicas: want,
        readyReplicas: ready,
        availableReplicas: ready,
      },
    };
    await this.apps.patchNamespacedReplicaSetStatus({ name, namespace, body }, merge);
  }

  /** Sets a Flux object's Ready condition (and revisions) as its controller would after reconciling. */
  async setFluxReady(ref: FluxRef, status: FluxStatus = {}): Promise<void> {
    const obj = (await this.custom.getNamespacedCustomObject(ref)) as {
      metadata?: { generation?: number };
      status?: { conditions?: { type: string }[] };
    };
    const ready = status.ready ?? true;
    const reason = status.reason ?? (ready ? 'ReconciliationSucceeded' : 'ReconciliationFailed');
    const message = status.message ?? (status.revision ? `Applied revision: ${status.revision}` : reason);
    const generation = obj.metadata?.generation ?? 1;
    // Ready replaces the flux-managed progress conditions; others (e.g. HelmRelease's Released) stay.
    const others = (obj.status?.conditions ?? []).filter((c) => !['Ready', 'Reconciling', 'Stalled'].includes(c.type));
    const revision = status.revision
      ? {
          lastAppliedRevision: status.revision,
          lastAttemptedRevision: status.revision,
          // A source's artifact as source-controller publishes it (every required field set).
          artifact: {
            revision: status.revision,
            digest: `sha256:${createHash('sha256').update(status.revision).digest('hex')}`,
            path: `${ref.plural.replace(/s$/, '')}/${ref.namespace}/${ref.name}/lab.tar.gz`,
            url: `http://source-controller.flux-system.svc.cluster.local./${ref.plural}/${ref.namespace}/${ref.name}/lab.tar.gz`,
            lastUpdateTime: new Date().toISOString(),
          },
        }
      : {};
    const body = {
      status: {
        observedGeneration: generation,
        conditions: [...others, { ...condition('Ready', ready, reason, message), observedGeneration: generation }],
        ...revision,
        ...status.extra,
      },
    };
    await this.custom.patchNamespacedCustomObjectStatus({ ...ref, body }, merge);
  }
}

function condition(type: string, ok: boolean, reason: string, message = reason) {
  const now = new Date().toISOString();
  return { type, status: ok ? 'True' : 'False', reason, message, lastTransitionTime: now, lastUpdateTime: now };
}
