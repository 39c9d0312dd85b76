/**
 * The batch path `npm run bench` uses (lab): one fleet commit per batch, a constant number of reads, writes
 * proportional to the objects made, and a state record small enough for 100 tenants to fit a ConfigMap many
 * times over. No timing is asserted here: the bench measures it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec } from '../../src/clients/exec.js';
import type { KubeClient } from '../../src/clients/kube.js';
import { syncTenantFleet, tenantDir, tenantsIndexFile } from '../../src/tenants/fleet.js';
import { TENANT_LABEL } from '../../src/tenants/manifests.js';
import { recordOf } from '../../src/tenants/records.js';
import { addTenants } from '../../src/tenants/tenants.js';
import {
  countingKube,
  fluxContext,
  labCluster,
  labKube,
  uniqueName,
  useOperatorCredentials,
} from '../helpers/flux-context.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { cloneFleet, ensureTenantPrereqs, memoryStore, tenantSpec } from '../helpers/tenants.js';
import { lab } from '../lab/env.js';

const env = lab();
const id = Math.random().toString(36).slice(2, 7);
const cluster = labCluster(env, uniqueName('batch'));
const store = memoryStore(cluster.name);
const saved = process.env.GIT_SSH_COMMAND;
const made: string[] = [];
let kube: KubeClient;
let cleanup: () => Promise<void>;

async function batch(n: number, offset: number) {
  const specs = Array.from({ length: n }, (_, i) => tenantSpec(`bt-${id}-${offset + i}`));
  made.push(...specs.map((s) => s.name));
  const counted = countingKube(kube);
  const { ctx } = fluxContext(cluster, { kube: counted.kube });
  const before = store.writes;
  const report = await addTenants(ctx, specs, { store, state: store.current, apply: true });
  return { report, counts: counted.counts, stateWrites: store.writes - before };
}

beforeAll(async () => {
  useOperatorCredentials(env);
  kube = await labKube(env);
  cleanup = await ensureTenantPrereqs(kube, 'platform-gateway');
});

afterAll(async () => {
  await syncTenantFleet([tenantsIndexFile(cluster, [])], made.map(tenantDir), {
    exec: createExec(),
    log: memoryLogger(),
    cluster,
    message: 'platctl test: batch cleanup',
  });
  for (const ns of await kube.list('v1', 'Namespace', { labelSelector: TENANT_LABEL })) {
    if (ns.metadata.name.startsWith(`bt-${id}-`))
      await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns.metadata.name });
  }
  await cleanup();
  if (saved === undefined) delete process.env.GIT_SSH_COMMAND;
  else process.env.GIT_SSH_COMMAND = saved;
});

describe('addTenants batches (lab)', () => {
  it('reads stay constant per batch, writes grow with the tenants, one commit and two state writes per batch', async () => {
    const small = await batch(3, 0);
    const large = await batch(6, 3);
    for (const run of [small, large]) {
      expect(run.report.fleet.committed).toBe(true);
      expect(run.stateWrites).toBe(2);
    }
    expect(large.counts.reads).toBe(small.counts.reads);
    // 9 objects per one-namespace tenant, applied once each; nothing else is written.
    expect(small.counts.writes).toBe(3 * 9);
    expect(large.counts.writes).toBe(6 * 9);
    expect(large.report.fleet.changed).toHaveLength(6 * 5 + 1); // five files each (no hosts: no tls.yaml), and tenants.yaml
    const fleet = await cloneFleet(env);
    try {
      expect(made.every((t) => fleet.exists(`${tenantDir(t)}/sync.yaml`))).toBe(true);
      expect(fleet.read(`clusters/${cluster.name}/tenants.yaml`).match(/kind: Kustomization/g)).toHaveLength(9);
    } finally {
      await fleet.cleanup();
    }
  });

  it('a tenant record is a few hundred bytes: 100 tenants stay far below the 256 KiB ConfigMap budget', () => {
    const record = store.current.records.tenants?.[made[0]!];
    expect(record).toEqual({ ...recordOf(tenantSpec(made[0]!), String(record?.commit)) });
    const hundred = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [
        `tenant-with-a-long-name-${i}`,
        recordOf(
          tenantSpec(`tenant-with-a-long-name-${i}`, {
            namespaces: [`tenant-with-a-long-name-${i}`, `tenant-with-a-long-name-${i}-jobs`],
            hosts: [`tenant-with-a-long-name-${i}.apps.example.com`],
          }),
          'f'.repeat(40),
        ),
      ]),
    );
    const size = Buffer.byteLength(JSON.stringify({ ...store.current, records: { tenants: hundred } }));
    expect(size).toBeLessThan(64 * 1024);
  });
});
