/**
 * A valid platform.yaml object, built fresh each call so tests can break one field at a time. Only the
 * required fields are set; everything else comes from the schema's defaults.
 */
import { validateConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/schema.js';

/** A plain (unvalidated) cluster entry: the raw YAML shape, before defaults. */
export type RawCluster = Record<string, unknown> & { name: string };

/** A raw, valid cluster entry named `name`. */
export function rawCluster(name = 'demo'): RawCluster {
  return {
    name,
    aws: { accountId: '123456789012', region: 'us-east-1' },
    kubernetes: { version: '1.34' },
    fleet: { url: 'ssh://git@github.com/acme/fleet.git' },
  };
}

/** A raw, valid platform.yaml object with the given clusters (default: one cluster named demo). */
export function rawPlatform(...clusters: RawCluster[]): { clusters: RawCluster[] } {
  return { clusters: clusters.length > 0 ? clusters : [rawCluster()] };
}

/** A validated cluster config (defaults filled), as steps and the runner receive it. */
export function clusterConfig(name = 'demo'): ClusterConfig {
  const cluster = validateConfig(rawPlatform(rawCluster(name)), 'test config').clusters[0];
  if (!cluster) throw new Error('base config lost its cluster');
  return cluster;
}

/**
 * Returns a deep copy of `obj` with `value` set at `path` (creating objects on the way); `undefined` deletes
 * the key. Paths use the same segments as the error messages: ['clusters', 0, 'vault', 'keyShares'].
 */
export function withField<T>(obj: T, path: ReadonlyArray<string | number>, value: unknown): T {
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    at[key] ??= {};
    at = at[key] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (last === undefined) throw new Error('withField needs a path');
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy as T;
}
