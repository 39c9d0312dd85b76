/**
 * A valid platform.yaml object, built fresh each call so tests can break one field at a time. Only the
 * required fields are set; everything else comes from the schema's defaults.
 */
import path from 'node:path';
import { validateConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { FIXTURES } from '../lab/config.js';

/** The upstream Istio charts directory (base/, istiod/, gateway/) in the shared fixtures, never copied. */
export const ISTIO_CHARTS = path.join(FIXTURES, 'charts', 'istio');
/** The upstream Vault chart in the shared fixtures. */
export const VAULT_CHART = path.join(FIXTURES, 'charts', 'vault');
/** The upstream AWS EBS CSI driver chart in the shared fixtures. */
export const EBS_CHART = path.join(FIXTURES, 'charts', 'aws-ebs-csi-driver');

/** The Istio and Vault sections the Helm steps' tests start from: the fixture charts, three Vault replicas. */
export const helmSections = () => ({
  istio: { version: '1.30.3', tags: ['prod-stable'], charts: ISTIO_CHARTS, namespaces: [] as string[] },
  vault: { chart: VAULT_CHART, chartVersion: '0.34.1', replicas: 3, keyShares: 3, keyThreshold: 2 },
});

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

/** A validated cluster named `name` with the Helm steps' sections, `extra` merged at the top level. */
export function helmCluster(name: string, extra: Record<string, unknown> = {}): ClusterConfig {
  const cluster = validateConfig(rawPlatform({ ...rawCluster(name), ...helmSections(), ...extra }), 'test config')
    .clusters[0];
  if (!cluster) throw new Error('lost the cluster');
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
