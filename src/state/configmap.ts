/**
 * State in the cluster: ConfigMap platctl-system/platctl-state, key state.json. Every write carries the
 * resourceVersion it was based on; a 409 means someone else wrote first, so the store re-reads and re-applies
 * the mutation. The last read is cached, so a write normally costs one request.
 */
import { type KubeClient, type KubeObject, retryOnConflict } from '../clients/kube.js';
import { createNamespace } from '../clients/namespaces.js';
import { PlatctlError } from '../errors.js';
import type { StateStore } from './store.js';
import { emptyState, parseState, type State } from './types.js';

/** Namespace holding platctl's own objects (state, lock). */
export const SYSTEM_NAMESPACE = 'platctl-system';
/** Name of the state ConfigMap. */
export const STATE_CONFIGMAP = 'platctl-state';
const KEY = 'state.json';
const MAX_ATTEMPTS = 10;

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** Ensures platctl-system exists (idempotent); one left terminating by a teardown is waited out first. */
export async function ensureSystemNamespace(kube: KubeClient): Promise<void> {
  await createNamespace(kube, SYSTEM_NAMESPACE, { labels: { 'app.kubernetes.io/managed-by': 'platctl' } });
}

/** A {@link StateStore} over the state ConfigMap. */
export class ConfigMapStore implements StateStore {
  readonly location = 'cluster' as const;
  readonly name: string;
  private cached?: { state: State; resourceVersion: string };

  constructor(
    private readonly kube: KubeClient,
    private readonly cluster: string,
  ) {
    this.name = `ConfigMap ${SYSTEM_NAMESPACE}/${STATE_CONFIGMAP} on ${kube.server}`;
  }

  private ref() {
    return { apiVersion: 'v1', kind: 'ConfigMap', namespace: SYSTEM_NAMESPACE, name: STATE_CONFIGMAP };
  }

  private parse(cm: ConfigMap): State {
    const parsed = parseState(cm.data?.[KEY] ?? '');
    if ('problem' in parsed) {
      throw new PlatctlError('STATE_CORRUPT', `${this.name}: key ${KEY} is unreadable: ${parsed.problem}`, {
        hint: `platctl never overwrites it. Inspect with: kubectl -n ${SYSTEM_NAMESPACE} get configmap ${STATE_CONFIGMAP} -o yaml; repair the JSON; ~/.platctl/${this.cluster}/state.json on the machine that moved state into the cluster holds a copy as of that move`,
      });
    }
    if (parsed.state.cluster !== this.cluster) {
      throw new PlatctlError(
        'STATE_ELSEWHERE',
        `${this.name} holds the state of cluster "${parsed.state.cluster}", not "${this.cluster}"`,
        { hint: 'check --kubeconfig/--context: this API server belongs to another cluster' },
      );
    }
    return parsed.state;
  }

  async load(): Promise<State | undefined> {
    const cm = await this.kube.get<ConfigMap>(this.ref());
    if (!cm) {
      this.cached = undefined;
      return undefined;
    }
    const state = this.parse(cm);
    this.cached = { state: structuredClone(state), resourceVersion: cm.metadata.resourceVersion ?? '' };
    return state;
  }

  async update(mutate: (state: State) => void): Promise<State> {
    return retryOnConflict(
      async (attempt) => {
        if (!this.cached || attempt > 1) await this.load();
        const base = this.cached;
        const state = base ? structuredClone(base.state) : emptyState(this.cluster);
        mutate(state);
        await this.put(state, base?.resourceVersion);
        return state;
      },
      {
        attempts: MAX_ATTEMPTS,
        exhausted: (last) =>
          new PlatctlError('STATE_CONFLICT', `${this.name}: gave up after ${MAX_ATTEMPTS} conflicting writes`, {
            cause: last,
            hint: 'another process keeps writing the state; check for a second platctl run (platctl status)',
          }),
      },
    );
  }

  async write(state: State): Promise<void> {
    await ensureSystemNamespace(this.kube);
    await this.load();
    await this.put(state, this.cached?.resourceVersion);
  }

  private async put(state: State, resourceVersion: string | undefined): Promise<void> {
    const body: ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: STATE_CONFIGMAP,
        namespace: SYSTEM_NAMESPACE,
        labels: { 'app.kubernetes.io/managed-by': 'platctl', 'platctl.io/cluster': this.cluster },
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      data: { [KEY]: JSON.stringify(state) },
    };
    const written = resourceVersion
      ? await this.kube.replace<ConfigMap>(body)
      : await this.kube.create<ConfigMap>(body);
    this.cached = { state: structuredClone(state), resourceVersion: written.metadata.resourceVersion ?? '' };
  }
}
