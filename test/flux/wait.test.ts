/** Judging Flux objects and waiting for them: every verdict the wait can reach, on scripted objects. */
import { describe, expect, it } from 'vitest';
import type { KubeClient, KubeObject, ObjectRef } from '../../src/clients/kube.js';
import { assess, parseDuration, sameRevision, syncPollMs, syncRefs, waitForSync } from '../../src/flux/wait.js';

const [gitRef, ksRef] = syncRefs() as [ObjectRef, ObjectRef];
const REV = 'main@sha1:0123456789abcdef0123456789abcdef01234567';
const cond = (type: string, status: string, reason = 'R', message = 'm', observedGeneration = 2) => ({
  type,
  status,
  reason,
  message,
  observedGeneration,
});
const obj = (kind: string, status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'x/v1',
  kind,
  metadata: { name: 'flux-system', namespace: 'flux-system', generation: 2 },
  spec,
  status,
});

describe('assess', () => {
  it('is ready only when Ready=True at the wanted revision for the current generation', () => {
    expect(
      assess(ksRef, obj('Kustomization', { conditions: [cond('Ready', 'True')], lastAppliedRevision: REV }), REV).state,
    ).toBe('ready');
    expect(
      assess(gitRef, obj('GitRepository', { conditions: [cond('Ready', 'True')], artifact: { revision: REV } }), REV)
        .state,
    ).toBe('ready');
    expect(
      assess(
        ksRef,
        obj('Kustomization', { conditions: [cond('Ready', 'True')], lastAppliedRevision: 'main@sha1:old' }),
        REV,
      ).state,
    ).toBe('waiting');
    expect(
      assess(
        ksRef,
        obj('Kustomization', { conditions: [cond('Ready', 'True', 'R', 'm', 1)], lastAppliedRevision: REV }),
        REV,
      ).state,
    ).toBe('waiting');
    expect(assess(ksRef, undefined, REV)).toEqual({
      state: 'waiting',
      summary: 'Kustomization flux-system/flux-system: not found',
    });
  });

  it('fails on Ready=False for the current generation and revision, Stalled, or suspend; waits on transient reasons', () => {
    const failed = assess(
      ksRef,
      obj('Kustomization', { conditions: [cond('Ready', 'False', 'BuildFailed', 'boom')] }),
      REV,
    );
    expect(failed).toEqual({
      state: 'failed',
      summary: 'Kustomization flux-system/flux-system: Ready=False (BuildFailed: boom)',
    });
    expect(
      assess(ksRef, obj('Kustomization', { conditions: [cond('Ready', 'False', 'DependencyNotReady')] }), REV).state,
    ).toBe('waiting');
    expect(
      assess(ksRef, obj('Kustomization', { conditions: [cond('Ready', 'False', 'BuildFailed', 'x', 1)] }), REV).state,
    ).toBe('waiting');
    expect(
      assess(
        ksRef,
        obj('Kustomization', {
          conditions: [cond('Ready', 'False', 'BuildFailed')],
          lastAttemptedRevision: 'main@sha1:old',
        }),
        REV,
      ).state,
    ).toBe('waiting');
    expect(
      assess(ksRef, obj('Kustomization', { conditions: [cond('Stalled', 'True', 'InvalidPath', 'no path')] }), REV)
        .state,
    ).toBe('failed');
    expect(assess(ksRef, obj('Kustomization', {}, { suspend: true }), REV)).toEqual({
      state: 'failed',
      summary: 'Kustomization flux-system/flux-system: suspended (spec.suspend: true)',
    });
  });
});

describe('assess after a reconcile request', () => {
  const T = '2026-12-02T20:00:00.000Z';
  it('judges neither a stale success nor a stale failure until the controller has handled the request', () => {
    const ready = { conditions: [cond('Ready', 'True')], artifact: { revision: REV } };
    const failed = { conditions: [cond('Ready', 'False', 'GitOperationFailed', 'auth')] };
    expect(assess(gitRef, obj('GitRepository', ready), REV, T)).toEqual({
      state: 'waiting',
      summary: `GitRepository flux-system/flux-system: reconcile requested at ${T}, not handled yet`,
    });
    expect(assess(gitRef, obj('GitRepository', { ...failed, lastHandledReconcileAt: 'earlier' }), REV, T).state).toBe(
      'waiting',
    );
    expect(assess(gitRef, obj('GitRepository', { ...ready, lastHandledReconcileAt: T }), REV, T).state).toBe('ready');
    expect(assess(gitRef, obj('GitRepository', { ...failed, lastHandledReconcileAt: T }), REV, T).state).toBe('failed');
    // A later request (a webhook Receiver's) replaced ours: handling it follows ours, so the status is judged.
    const later = { ...obj('GitRepository', { ...ready, lastHandledReconcileAt: 'later' }) };
    later.metadata = { ...later.metadata, annotations: { 'reconcile.fluxcd.io/requestedAt': 'later' } };
    expect(assess(gitRef, later, REV, T).state).toBe('ready');
    // Still ours on the object, an older one handled: not yet.
    const ours = { ...obj('GitRepository', { ...ready, lastHandledReconcileAt: 'earlier' }) };
    ours.metadata = { ...ours.metadata, annotations: { 'reconcile.fluxcd.io/requestedAt': T } };
    expect(assess(gitRef, ours, REV, T).state).toBe('waiting');
    // Replaced, but the replacement not handled yet: not yet.
    const pending = { ...obj('GitRepository', { ...ready, lastHandledReconcileAt: 'earlier' }) };
    pending.metadata = { ...pending.metadata, annotations: { 'reconcile.fluxcd.io/requestedAt': 'later' } };
    expect(assess(gitRef, pending, REV, T).state).toBe('waiting');
    // A suspended object never handles it: that is reported at once.
    expect(assess(gitRef, obj('GitRepository', ready, { suspend: true }), REV, T).state).toBe('failed');
  });
});

describe('assess while a controller is at work', () => {
  it('waits on Ready=False while Reconciling=True (Progressing), judges it once the attempt failed for good', () => {
    const stale = cond('Ready', 'False', 'ReconciliationFailed', 'the previous commit was broken');
    const working = cond('Reconciling', 'True', 'Progressing', `Building manifests for revision ${REV}`);
    const retrying = cond('Reconciling', 'True', 'ProgressingWithRetry', 'reconciliation in progress');
    const ks = (c: unknown[]) => obj('Kustomization', { conditions: c, lastAttemptedRevision: REV });
    expect(assess(ksRef, ks([working, stale]), REV).state).toBe('waiting');
    expect(assess(ksRef, ks([retrying, stale]), REV).state).toBe('failed');
  });
});

describe('helpers', () => {
  it('parses config durations', () => {
    expect([parseDuration('500ms'), parseDuration('90s'), parseDuration('10m'), parseDuration('1h')]).toEqual([
      500, 90_000, 600_000, 3_600_000,
    ]);
    expect(() => parseDuration('10 minutes')).toThrow(/not a duration/);
  });

  it('matches revisions in the current and the old Flux formats', () => {
    expect(sameRevision(REV, REV)).toBe(true);
    expect(sameRevision('main/0123456789abcdef0123456789abcdef01234567', REV)).toBe(true);
    expect(sameRevision('main@sha1:ffff', REV)).toBe(false);
    expect(sameRevision(undefined, REV)).toBe(false);
  });
});

describe('waitForSync', () => {
  /** A client whose objects change as polls go by. */
  function scripted(states: Record<string, KubeObject | undefined>[], deployments: KubeObject[] = []) {
    let poll = 0;
    const kube = {
      server: 'scripted',
      get: async (ref: ObjectRef) => {
        const s = states[Math.min(poll, states.length - 1)];
        if (ref.kind === 'Kustomization') poll++;
        return s?.[ref.kind];
      },
      list: async () => deployments,
    } as unknown as KubeClient;
    return kube;
  }
  const readyGit = obj('GitRepository', { conditions: [cond('Ready', 'True')], artifact: { revision: REV } });

  it('returns once both objects reach the revision, reporting progress with conditions on the way', async () => {
    const progress: string[] = [];
    const kube = scripted([
      { GitRepository: readyGit },
      {
        GitRepository: readyGit,
        Kustomization: obj('Kustomization', { conditions: [cond('Ready', 'Unknown', 'Progressing', 'building')] }),
      },
      {
        GitRepository: readyGit,
        Kustomization: obj('Kustomization', { conditions: [cond('Ready', 'True')], lastAppliedRevision: REV }),
      },
    ]);
    await waitForSync(kube, { revision: REV, timeoutMs: 5000, pollMs: 1, progress: (m) => progress.push(m) });
    expect(progress).toHaveLength(2);
    expect(progress[1]).toContain('Kustomization flux-system/flux-system: Ready=Unknown (Progressing: building)');
  });

  it('looks every 500 ms for the first 30 s, where most syncs end, then every 2 s', () => {
    expect([0, 1000, 29_999, 30_000, 90_000].map(syncPollMs)).toEqual([500, 500, 500, 2000, 2000]);
  });

  it('times out naming every unavailable controller together', async () => {
    const dep = (name: string, available: string) => {
      const d = obj('Deployment', { conditions: [cond('Available', available)] });
      return { ...d, metadata: { ...d.metadata, name } };
    };
    const deps = [
      dep('source-controller', 'True'),
      dep('kustomize-controller', 'False'),
      dep('helm-controller', 'False'),
    ];
    const err = await waitForSync(scripted([{ GitRepository: readyGit }], deps), {
      revision: REV,
      timeoutMs: 30,
      pollMs: 5,
      progress: () => {},
    }).catch((e: Error) => e);
    expect(err?.message).toContain('Kustomization flux-system/flux-system: not found');
    expect(err?.message).toContain(
      'controller Deployments never became available: helm-controller, kustomize-controller',
    );
  });
});
