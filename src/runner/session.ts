/**
 * A run's hold on state: which store is authoritative (journal or ConfigMap), the matching run lock, and the
 * two migrations between them. The local journal, once state has moved, is a pointer (location "cluster")
 * so a later run knows to look in the cluster rather than start from scratch.
 */

import type { KubeClient } from '../clients/kube.js';
import { deleteAndWait, type SettleOptions } from '../clients/namespaces.js';
import { PlatctlError } from '../errors.js';
import { acquireFileLock, type RunLock } from '../lock/file-lock.js';
import { acquireLease, LOCK_LEASE } from '../lock/lease.js';
import type { Logger } from '../log.js';
import { whoAmI } from '../paths.js';
import { ConfigMapStore, STATE_CONFIGMAP, SYSTEM_NAMESPACE } from '../state/configmap.js';
import { JournalStore } from '../state/journal.js';
import type { StateStore } from '../state/store.js';
import { emptyState, mergeStates, pushHistory, type State } from '../state/types.js';
import { pausePoint } from '../test-seams.js';

/** Options for opening a session. */
export interface SessionOptions {
  cluster: string;
  log: Logger;
  command: string;
  /** The cluster's API as of a state (its kube target follows what that state's access step recorded). */
  kube: (state: State | undefined) => Promise<KubeClient>;
  /** Take the run lock (false for read-only commands and --dry-run). */
  lock: boolean;
  breakLock?: boolean;
}

/** The store and lock of one run, and the state as last read or written through it. */
export class StateSession {
  private lock?: RunLock;
  readonly journal: JournalStore;
  private current: State;

  private constructor(
    private readonly opts: SessionOptions,
    public store: StateStore,
  ) {
    this.journal = new JournalStore(opts.cluster);
    this.current = emptyState(opts.cluster);
  }

  /** The state as last read or written through this session. */
  get state(): State {
    return this.current;
  }

  /** Applies a mutation through the authoritative store (see {@link StateStore.update}); returns the new state. */
  async update(mutate: (state: State) => void): Promise<State> {
    this.current = await this.store.update(mutate);
    return this.current;
  }

  /** Finds the authoritative store, takes the lock, and reads the state. */
  static async open(opts: SessionOptions): Promise<{ session: StateSession; state: State }> {
    const journal = new JournalStore(opts.cluster);
    const local = await journal.load();
    if (local?.location !== 'cluster') {
      const session = new StateSession(opts, journal);
      if (opts.lock) session.lock = await acquireFileLock(opts.cluster, opts);
      if (opts.lock) await pausePoint('run', 'locked');
      session.current = (await journal.load()) ?? emptyState(opts.cluster);
      return { session, state: session.current };
    }
    // The pointer keeps a copy as of the move: its access record says where the cluster is.
    const kube = await opts.kube(local);
    const store = new ConfigMapStore(kube, opts.cluster);
    const session = new StateSession(opts, store);
    if (opts.lock) session.lock = await acquireLease(kube, opts);
    if (opts.lock) await pausePoint('run', 'locked');
    const state = await store.load();
    if (!state) {
      await session.close();
      throw new PlatctlError(
        'STATE_ELSEWHERE',
        `${journal.file} says state moved to ${store.name}, but that ConfigMap does not exist`,
        {
          hint: `if the cluster was rebuilt, restore the state there, or set "location": "local" in ${journal.file} to resume from the local copy`,
        },
      );
    }
    session.current = state;
    return { session, state };
  }

  /** Moves state into the cluster ConfigMap and swaps the file lock for the Lease. */
  async moveToCluster(state: State): Promise<State> {
    if (this.store.location === 'cluster') return state;
    const kube = await this.opts.kube(state);
    const lease = this.opts.lock ? await acquireLease(kube, this.opts) : undefined;
    const store = new ConfigMapStore(kube, this.opts.cluster);
    // The cluster may already hold state: a run from another machine, or this machine's journal was lost.
    const there = await store.load();
    if (there)
      this.opts.log.warning(
        `${store.name} already holds state for ${this.opts.cluster}: merging (newer step records win)`,
      );
    const moved: State = structuredClone({ ...(there ? mergeStates(there, state) : state), location: 'cluster' });
    pushHistory(moved, { at: new Date().toISOString(), step: '-', action: 'migrate', result: 'done', by: whoAmI() });
    await store.write(moved);
    // The journal becomes a pointer (with a full copy as of the move, handy for recovery).
    await this.journal.write(moved);
    await this.lock?.release();
    this.lock = lease;
    this.store = store;
    this.current = moved;
    this.opts.log.success(`state moved to ${store.name}`);
    return moved;
  }

  /** Moves state back to the local journal (teardown, before the cluster goes) and removes platctl-system. */
  async moveToLocal(): Promise<State> {
    const kube = await this.opts.kube(this.current);
    if (this.store.location === 'cluster') {
      const state = (await this.store.load()) ?? emptyState(this.opts.cluster);
      const back: State = { ...state, location: 'local' };
      pushHistory(back, { at: new Date().toISOString(), step: '-', action: 'migrate', result: 'done', by: whoAmI() });
      await this.journal.write(back);
      const fileLock = this.opts.lock ? await acquireFileLock(this.opts.cluster, this.opts) : undefined;
      await this.lock?.release();
      this.lock = fileLock;
      this.store = this.journal;
      this.opts.log.success(`state moved back to ${this.journal.file}`);
    }
    await removeClusterState(kube, { waiting: (m) => this.opts.log.waiting(m) });
    this.current = (await this.journal.load()) ?? emptyState(this.opts.cluster);
    return this.current;
  }

  /** Releases the lock. */
  async close(): Promise<void> {
    await this.lock?.release();
    this.lock = undefined;
  }
}

/**
 * Opens a session, runs `fn` with it, and releases the lock whatever happens: the open / try / finally every
 * command that reads or writes state shares.
 */
export async function withSession<T>(opts: SessionOptions, fn: (session: StateSession) => Promise<T>): Promise<T> {
  const { session } = await StateSession.open(opts);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/**
 * Deletes platctl's own objects from the cluster: state ConfigMap, Lease and namespace, waiting until the
 * namespace is gone. Idempotent.
 */
export async function removeClusterState(kube: KubeClient, wait: SettleOptions = {}): Promise<void> {
  const ns = SYSTEM_NAMESPACE;
  await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: STATE_CONFIGMAP });
  await kube.delete({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns, name: LOCK_LEASE });
  await deleteAndWait(kube, { apiVersion: 'v1', kind: 'Namespace', name: ns }, wait);
}
