/**
 * Plays Flux's controllers: on request it writes the status a Flux controller would write once the work is done.
 * (Workloads are real: the controller-manager's workload controllers, kube-scheduler and kwok run them.) Tests
 * that use it must say so in a comment.
 */
import { createHash } from 'node:crypto';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { LabEnv } from './lab-env.js';

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

/** Plays Flux's controllers against the lab apiserver. */
export class PretendController {
  private readonly custom: CustomObjectsApi;

  constructor(kubeconfigPath: string) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** A controller for the given lab. */
  static forLab(env: LabEnv): PretendController {
    return new PretendController(env.kubeconfig);
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
