/**
 * ConfigMapStore over the fake cluster: optimistic concurrency (a 409 re-reads and re-applies the mutation,
 * keeping the other writer's change), giving up after 10 conflicts, and a corrupt ConfigMap that is reported
 * and never overwritten.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { ConfigMapStore, STATE_CONFIGMAP, SYSTEM_NAMESPACE } from '../../src/state/configmap.js';
import { emptyState, type State } from '../../src/state/types.js';
import { createFakeKube, type FakeKube } from '../helpers/fake-kube.js';
import { platctlFailure } from '../helpers/platctl-error.js';

const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: SYSTEM_NAMESPACE, name: STATE_CONFIGMAP };
type Cm = KubeObject & { data: Record<string, string> };

/** A mutation adding a done step record. */
const addStep = (id: string) => (s: State) => {
  s.steps[id] = { status: 'done', outputs: {} };
};
const stored = (kube: FakeKube) => JSON.parse(kube.peek<Cm>(ref)?.data['state.json'] ?? 'null') as State;
const failure = (p: Promise<unknown>) => platctlFailure(p);

/** A cluster whose state ConfigMap holds `state`. */
async function withState(state: State = emptyState('demo')) {
  const kube = createFakeKube();
  await new ConfigMapStore(kube, 'demo').write(state);
  return kube;
}

/** Another platctl writing the ConfigMap directly (bumping its resourceVersion). */
function otherWriter(kube: FakeKube, change: (s: State) => void) {
  const cm = kube.peek<Cm>(ref)!;
  const s = JSON.parse(cm.data['state.json'] ?? '') as State;
  change(s);
  kube.seed({ ...cm, data: { 'state.json': JSON.stringify(s) } });
}

describe('ConfigMapStore', () => {
  it('write creates platctl-system and the ConfigMap, labelled; load reads it back', async () => {
    const kube = await withState({ ...emptyState('demo'), location: 'cluster' });
    expect(kube.peek({ apiVersion: 'v1', kind: 'Namespace', name: SYSTEM_NAMESPACE })).toBeDefined();
    expect(kube.peek(ref)?.metadata.labels).toMatchObject({ 'platctl.io/cluster': 'demo' });
    const store = new ConfigMapStore(kube, 'demo');
    expect(store.name).toContain(`ConfigMap ${SYSTEM_NAMESPACE}/${STATE_CONFIGMAP} on ${kube.server}`);
    expect((await store.load())?.location).toBe('cluster');
  });

  it('on a 409 re-reads and re-applies the mutation, keeping the concurrent writer’s change', async () => {
    const kube = await withState();
    const store = new ConfigMapStore(kube, 'demo');
    await store.load();
    let interfered = false;
    kube.beforeWrite = (verb) => {
      if (verb === 'replace' && !interfered) {
        interfered = true;
        otherWriter(kube, (s) => {
          s.steps.other = { status: 'done', outputs: { by: 'someone else' } };
        });
      }
    };
    let calls = 0;
    const result = await store.update((s) => {
      calls++;
      s.steps.mine = { status: 'done', outputs: { n: calls } };
    });
    expect(calls).toBe(2);
    expect(Object.keys(result.steps).sort()).toEqual(['mine', 'other']);
    const final = stored(kube);
    expect(final.steps.other?.outputs).toEqual({ by: 'someone else' });
    expect(final.steps.mine?.outputs).toEqual({ n: 2 });
    expect(kube.calls.filter((c) => c.verb === 'replace')).toHaveLength(2);
  });

  it('gives up after 10 conflicting writes with STATE_CONFLICT, naming the ConfigMap', async () => {
    const kube = await withState();
    const store = new ConfigMapStore(kube, 'demo');
    await store.load();
    kube.calls.length = 0;
    let n = 0;
    kube.beforeWrite = (verb) => {
      if (verb === 'replace')
        otherWriter(
          kube,
          (s) => void s.history.push({ at: `${++n}`, step: 'x', action: 'apply', result: 'done', by: 'other' }),
        );
    };
    const err = await failure(store.update(addStep('mine')));
    expect(err.code).toBe('STATE_CONFLICT');
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain(store.name);
    expect(kube.calls.filter((c) => c.verb === 'replace')).toHaveLength(10);
    expect(stored(kube).steps.mine).toBeUndefined();
  });

  it('refuses a corrupt ConfigMap with STATE_CORRUPT naming it, and never writes over it', async () => {
    const kube = await withState();
    const cm = kube.peek<Cm>(ref)!;
    kube.seed({ ...cm, data: { 'state.json': '{"version":1,"cluster":"demo","steps":' } });
    const rv = kube.peek(ref)?.metadata.resourceVersion;
    kube.calls.length = 0;
    const store = new ConfigMapStore(kube, 'demo');
    const err = await failure(store.update(addStep('x')));
    expect(err.code).toBe('STATE_CORRUPT');
    expect(err.message).toContain(`ConfigMap ${SYSTEM_NAMESPACE}/${STATE_CONFIGMAP}`);
    expect(err.hint).toContain('never overwrites');
    expect((await failure(store.load())).code).toBe('STATE_CORRUPT');
    expect(kube.peek(ref)?.metadata.resourceVersion).toBe(rv);
    expect(kube.calls.filter((c) => c.verb !== 'get')).toEqual([]);
  });

  it('a stale cached copy that meets a now-corrupt ConfigMap fails rather than overwriting it', async () => {
    const kube = await withState();
    const store = new ConfigMapStore(kube, 'demo');
    await store.load();
    const cm = kube.peek<Cm>(ref)!;
    kube.seed({ ...cm, data: { 'state.json': 'garbage' } });
    const err = await failure(store.update(addStep('x')));
    expect(err.code).toBe('STATE_CORRUPT');
    expect(kube.peek<Cm>(ref)?.data['state.json']).toBe('garbage');
  });
});
