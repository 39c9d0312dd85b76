/**
 * The one builder of lab cluster configs: a platform.yaml cluster entry aimed at the lab (moto's account and
 * region, the lab apiserver through its kubeconfig, the lab's fleet repo), with a test's own sections merged
 * over it at the top level. The per-domain helpers (cloud, flux, helm, vault) add their sections through it.
 */
import { randomBytes } from 'node:crypto';
import { validateConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import type { LabEnv } from '../lab/env.js';

/** moto's fixed account id. */
export const MOTO_ACCOUNT = '123456789012';

/** A unique, lowercase cluster name: moto, the apiserver and the fleet repo are shared with other test files. */
export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

/** A raw (pre-schema) cluster entry aimed at the lab, `extra` merged at the top level. */
export function labRawCluster(env: LabEnv, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    aws: { accountId: MOTO_ACCOUNT, region: env.region },
    kubernetes: { version: '1.34', access: 'kubeconfig', kubeconfig: env.kubeconfig },
    fleet: { url: env.fleetUrl, branch: 'main' },
    ...extra,
  };
}

/** {@link labRawCluster}, validated (defaults filled) as steps receive it. */
export function labCluster(env: LabEnv, name: string, extra: Record<string, unknown> = {}): ClusterConfig {
  const cluster = validateConfig({ clusters: [labRawCluster(env, name, extra)] }, 'lab test config').clusters[0];
  if (!cluster) throw new Error('config lost its cluster');
  return cluster;
}
