/**
 * State moving into the cluster after the `movesStateToCluster` step (fake cluster), and back before that
 * step is destroyed. Also: the run lock follows the state (file lock → Lease → file lock).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { isPlatctlError } from '../../src/errors.js';
import { holderIdentity } from '../../src/lock/holder.js';
import { StateSession } from '../../src/runner/session.js';
import { journalPath } from '../../src/state/journal.js';
import type { State } from '../../src/state/types.js';
import { createFakeKube, type FakeKube } from '../helpers/fake-kube.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { useTempHome } from '../helpers/temp-home.js';
import { type FakeStep, fakeSteps, runSteps } from '../helpers/test-steps.js';

const home = useTempHome();

const ns = 'platctl-system';
const cmRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'platctl-state' };
const leaseRef = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns, name: 'platctl-lock' };
type Cm = KubeObject & { data: Record<string, string> };
type Lease = KubeObject & { spec: { holderIdentity: string | null } };

const clusterState = (kube: FakeKube) => {
  const cm = kube.peek<Cm>(cmRef);
  return cm ? (JSON.parse(cm.data['state.json'] ?? '') as State) : undefined;
};
const journal = () => JSON.parse(readFileSync(journalPath('demo'), 'utf8')) as State;
const lockFile = () => path.join(home(), 'demo', 'lock');

function pipeline(): { kube: FakeKube; steps: FakeStep[]; rec: ReturnType<typeof fakeSteps>['rec'] } {
  const kube = createFakeKube();
  const { rec, steps } = fakeSteps(['a', 'access', 'c', 'd']);
  Object.assign(steps[1]!, { movesStateToCluster: true });
  return { kube, steps, rec };
}

describe('movesStateToCluster', () => {
  it('moves state into the ConfigMap, leaves a pointer journal, and swaps the file lock for the Lease', async () => {
    const { kube, steps } = pipeline();
    const during: Record<string, unknown> = {};
    steps[2]!.onApply = () => {
      during.lockFile = existsSync(lockFile());
      during.leaseHolder = kube.peek<Lease>(leaseRef)?.spec.holderIdentity;
      during.cmLocation = clusterState(kube)?.location;
    };
    steps[0]!.onApply = () => {
      during.lockFileBefore = existsSync(lockFile());
    };
    const report = await runSteps('bootstrap', steps, { kube });
    expect(report.ok).toBe(true);
    expect(during).toEqual({
      lockFileBefore: true,
      lockFile: false,
      leaseHolder: holderIdentity(),
      cmLocation: 'cluster',
    });

    const inCluster = clusterState(kube)!;
    expect(inCluster.location).toBe('cluster');
    expect(Object.entries(inCluster.steps).map(([id, s]) => `${id}:${s.status}`)).toEqual([
      'a:done',
      'access:done',
      'c:done',
      'd:done',
    ]);
    expect(inCluster.history.some((h) => h.action === 'migrate')).toBe(true);
    const pointer = journal();
    expect(pointer.location).toBe('cluster');
    expect(pointer.steps.c).toBeUndefined();
    expect(kube.peek<Lease>(leaseRef)?.spec.holderIdentity).toBeNull();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('a second run reads the ConfigMap, applies nothing and writes no state', async () => {
    const { kube, steps, rec } = pipeline();
    await runSteps('bootstrap', steps, { kube });
    const rv = kube.peek(cmRef)?.metadata.resourceVersion;
    const pointer = readFileSync(journalPath('demo'));
    rec.clear();
    kube.calls.length = 0;
    const report = await runSteps('bootstrap', steps, { kube });
    expect(report.steps.map((s) => s.result)).toEqual(['up-to-date', 'up-to-date', 'up-to-date', 'up-to-date']);
    expect(rec.of('apply')).toEqual([]);
    expect(kube.peek(cmRef)?.metadata.resourceVersion).toBe(rv);
    expect(kube.calls.filter((c) => c.verb !== 'get' && c.key.includes('ConfigMap'))).toEqual([]);
    expect(readFileSync(journalPath('demo')).equals(pointer)).toBe(true);
  });

  it('teardown destroys in reverse, moving state back to the journal before destroying that step', async () => {
    const { kube, steps, rec } = pipeline();
    await runSteps('bootstrap', steps, { kube });
    const during: Record<string, unknown> = {};
    steps[3]!.onDestroy = () => {
      during.dSeesConfigMap = Boolean(kube.peek(cmRef));
    };
    steps[1]!.onDestroy = () => {
      const j = journal();
      during.accessSeesConfigMap = Boolean(kube.peek(cmRef));
      during.accessSeesNamespace = Boolean(kube.peek({ apiVersion: 'v1', kind: 'Namespace', name: ns }));
      during.journalLocation = j.location;
      during.journalD = j.steps.d?.status;
      during.lockFile = existsSync(lockFile());
    };
    rec.clear();
    const report = await runSteps('teardown', steps, { kube });
    expect(report.ok).toBe(true);
    expect(rec.of('destroy')).toEqual(['d', 'c', 'access', 'a']);
    expect(during).toEqual({
      dSeesConfigMap: true,
      accessSeesConfigMap: false,
      accessSeesNamespace: false,
      journalLocation: 'local',
      journalD: 'destroyed',
      lockFile: true,
    });
    const j = journal();
    expect(j.location).toBe('local');
    expect(Object.values(j.steps).map((s) => s.status)).toEqual(['destroyed', 'destroyed', 'destroyed', 'destroyed']);
    expect(kube.size()).toBe(0);
    expect(existsSync(lockFile())).toBe(false);
  });

  it('refuses with STATE_ELSEWHERE when the pointer names a ConfigMap that is gone, and releases the Lease', async () => {
    const { kube, steps } = pipeline();
    await runSteps('bootstrap', steps, { kube });
    await kube.delete(cmRef);
    const err = await StateSession.open({
      cluster: 'demo',
      log: memoryLogger(),
      command: 'bootstrap',
      kube: async () => kube,
      lock: true,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPlatctlError(err) && err.code).toBe('STATE_ELSEWHERE');
    expect((err as Error).message).toContain(journalPath('demo'));
    expect(kube.peek<Lease>(leaseRef)?.spec.holderIdentity).toBeNull();
  });

  it('a run from another machine (no journal) merges into the state the cluster holds: nothing is lost', async () => {
    const { kube, steps, rec } = pipeline();
    await runSteps('bootstrap', steps, { kube });
    // What only the cluster's copy knows: a tenant record and d's outputs.
    const cm = kube.peek<Cm>(cmRef)!;
    const before = JSON.parse(cm.data['state.json']!) as State;
    before.records.tenants = { 'team-a': { namespaces: ['team-a'] } };
    before.steps.d = { ...before.steps.d!, outputs: { only: 'in-cluster' } };
    kube.seed({ ...cm, data: { 'state.json': JSON.stringify(before) } });
    // The other machine: an empty home, so its journal knows nothing; a changes, so it re-applies.
    rmSync(path.join(home(), 'demo'), { recursive: true, force: true });
    rec.clear();
    const log = memoryLogger();
    const report = await runSteps('bootstrap', steps, { kube, log });
    expect(report.ok).toBe(true);
    const after = clusterState(kube)!;
    expect(after.records.tenants).toEqual({ 'team-a': { namespaces: ['team-a'] } });
    expect(after.steps.d?.outputs).toEqual({ only: 'in-cluster' });
    expect(String(after.steps.access?.finishedAt) > String(before.steps.access?.finishedAt)).toBe(true);
    expect(after.history.length).toBeGreaterThan(before.history.length);
    expect(log.lines.join('\n')).toContain('already holds state for demo: merging');
  });
});
