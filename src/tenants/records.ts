/**
 * The compact per-tenant record in `state.records.tenants[<tenant>]`: what was made and where (namespaces,
 * hosts, source repo, role, fleet commit), never copies of the manifests, so 100 tenants stay a few KiB.
 */
import type { StateStore } from '../state/store.js';
import type { State } from '../state/types.js';
import type { TenantSpec } from './manifests.js';

/** What platctl records per tenant. */
export interface TenantRecord {
  namespaces: string[];
  hosts: string[];
  repo: string;
  role: string;
  /** Fleet commit that last changed the tenant's files. */
  commit: string;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The tenant records of a state. */
export function tenantRecords(state: State): Record<string, TenantRecord> {
  const out: Record<string, TenantRecord> = {};
  for (const [name, r] of Object.entries(state.records.tenants ?? {})) {
    out[name] = {
      namespaces: strings(r.namespaces),
      hosts: strings(r.hosts),
      repo: String(r.repo ?? ''),
      role: String(r.role ?? ''),
      commit: String(r.commit ?? ''),
    };
  }
  return out;
}

/** The record of a tenant spec at a fleet commit. */
export const recordOf = (s: TenantSpec, commit: string): TenantRecord => ({
  namespaces: s.namespaces,
  hosts: s.hosts,
  repo: s.repo,
  role: s.role,
  commit,
});

/** Where tenant state is kept: the run's store (locked) and the state as read. */
export interface TenantStateIo {
  store: StateStore;
  state: State;
}

/** Writes records (undefined deletes) in one state update; keeps the state written in `io.state`. */
export async function saveRecords(io: TenantStateIo, changes: Record<string, TenantRecord | undefined>): Promise<void> {
  io.state = await io.store.update((st) => {
    st.records.tenants ??= {};
    const tenants = st.records.tenants;
    for (const [name, r] of Object.entries(changes)) {
      if (r) tenants[name] = { ...r };
      else delete tenants[name];
    }
  });
}
