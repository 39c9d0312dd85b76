/**
 * What real scheduling does to Vault, on the lab's three kwok nodes (one per zone) with kube-scheduler, the
 * StatefulSet controller and the lab's EBS provisioner:
 * - only two schedulable nodes: required anti-affinity leaves one server Pending (the chart starts them in
 *   parallel, so which one is chance); the vault step says so, naming the pod and the scheduler's reason, and
 *   vault-init still initialises, through a server that runs;
 * - no usable StorageClass: no claim binds, no server runs, and the vault step fails rather than declare success;
 * - vault-init waits, bounded and with progress, for a server to run (vault-0 first), and on timeout says why (no
 *   pod, an unbound claim, the scheduler's reason).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../src/clients/kube.js';
import { deleteAndWait, settle } from '../../src/clients/namespaces.js';
import { vaultStep } from '../../steps/vault.js';
import { createVaultInitStep } from '../../steps/vault-init.js';
import { labCluster, labContext, runStepOnce } from '../helpers/helm-context.js';
import { storageOutputs, withLabStorage } from '../helpers/lab-storage.js';
import { makeKeys } from '../helpers/pgp-keys.js';
import { lab } from '../lab/env.js';
import { nodeName } from '../lab/kwok.js';
import { resetBao } from '../lab/lab.js';

const env = lab();
const id = `${process.pid}`;
const name = `vsched-${id}`;
const nsRef = (n: string) => ({ apiVersion: 'v1', kind: 'Namespace', name: n });
const cordoned = nodeName(`${env.region}c`);
let home: string;
let kube: KubeClient;
let storageCleanup: (() => Promise<void>) | undefined;
let keyFiles: string[] = [];
let rootKeyFile = '';
const namespaces: string[] = [];
/** Vault releases a test installed: removed after each test (the chart's cluster-wide objects allow one). */
const installed: ReturnType<typeof cluster>[] = [];

/** A cluster whose Vault lives in its own meshed namespace (plain HTTP behind the forward). */
function cluster(ns: string, vault: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  namespaces.push(ns);
  const base = labCluster(env, name);
  return labCluster(env, name, {
    istio: { version: '1.30.3', tags: ['prod-stable'], namespaces: [ns] },
    vault: {
      chart: base.vault.chart,
      namespace: ns,
      replicas: 3,
      keyShares: 3,
      keyThreshold: 2,
      pgpKeys: keyFiles,
      rootTokenPgpKey: rootKeyFile,
      timeout: '20s',
      ...vault,
    },
    ...extra,
  });
}
const outputs = () => storageOutputs(labCluster(env, name));

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'platctl-vault-sched-'));
  process.env.PLATCTL_HOME = home;
  const keys = (await makeKeys(home, 'holder', 4)).map((k) => k.publicFile);
  keyFiles = keys.slice(0, 3);
  rootKeyFile = keys[3] ?? '';
  kube = await labContext(env, labCluster(env, name)).kube();
  storageCleanup = await withLabStorage(env, labCluster(env, name));
});
afterEach(async () => {
  await kube.patch({ apiVersion: 'v1', kind: 'Node', name: cordoned }, { spec: { unschedulable: false } });
  for (const c of installed.splice(0)) await vaultStep.destroy(labContext(env, c));
});
afterAll(async () => {
  for (const ns of namespaces) {
    await settle(kube, nsRef(ns));
    if (await kube.get(nsRef(ns))) await deleteAndWait(kube, nsRef(ns));
  }
  await storageCleanup?.();
  await resetBao(); // vault-init initialised it: leave it uninitialised, as the lab promises
  await rm(home, { recursive: true, force: true });
});

describe('vault on two schedulable nodes', () => {
  it("one server stays Pending; the vault step names it and the scheduler's reason; vault-init goes on", async () => {
    await kube.patch({ apiVersion: 'v1', kind: 'Node', name: cordoned }, { spec: { unschedulable: true } });
    const c = cluster(`vsched-two-${id}`);
    installed.push(c);
    const ctx = labContext(env, c, { outputs: outputs() });
    expect(await vaultStep.apply(ctx)).toEqual({ release: 'vault', namespace: c.vault.namespace });
    const log = ctx.log.lines.join('\n');
    expect(log).toContain('only 2 of 3 Vault servers run');
    const pending = new RegExp(
      `${c.vault.namespace}/vault-[0-2]: Pending; Unschedulable: 0/3 nodes are available: 1 node\\(s\\) were unschedulable, 2 node\\(s\\) didn't match pod anti-affinity rules`,
      'g',
    );
    expect(log.match(pending)).toHaveLength(1);
    expect(log).toContain('add nodes (one more per missing server) or lower vault.replicas');

    await resetBao();
    const init = labContext(env, c, { outputs: { vault: { release: 'vault', namespace: c.vault.namespace } } });
    expect(await createVaultInitStep().apply(init)).toMatchObject({ initialized: true });
    expect(init.log.lines.join('\n')).toContain('Vault initialised (shamir seal): 3 shares, threshold 2');
  });
});

describe('vault with no usable StorageClass', () => {
  it('fails: no server runs, and the error names each claim and its class', async () => {
    // No claim can ever bind, so a short bound proves the same as a long one.
    const c = cluster(`vsched-nosc-${id}`, { timeout: '8s' }, { storage: { storageClass: 'no-such-class' } });
    installed.push(c);
    const ctx = labContext(env, c, { outputs: outputs() });
    const report = await runStepOnce(ctx, vaultStep);
    expect(report.steps[0]?.result).toBe('failed');
    const detail = report.steps[0]?.detail ?? '';
    expect(detail).toContain('no Vault server runs after 8s, so none can be initialised');
    expect(detail).toContain(`${c.vault.namespace}/vault-0: Pending`);
    expect(detail).toContain('PersistentVolumeClaim data-vault-0 is Pending (StorageClass no-such-class)');
    // The release is installed as wanted, yet the next (deep) check still has work: no server runs.
    const again = await vaultStep.check(labContext(env, c, { outputs: outputs() }));
    expect(again.status).toBe('drift');
    expect(again.detail).toContain(`! no Vault server runs: ${c.vault.namespace}/vault-0: Pending`);
  });
});

describe('vault-init waits for a server, bounded and with progress', () => {
  it('says there is no pod', async () => {
    const c = cluster(`vsched-nopod-${id}`, { timeout: '3s', replicas: 1 });
    const progress: string[] = [];
    const ctx = { ...labContext(env, c), progress: (m: string) => progress.push(m) };
    await expect(createVaultInitStep().apply(ctx)).rejects.toMatchObject({
      code: 'WAIT_TIMEOUT',
      message: expect.stringContaining(
        `no Vault server runs after 3s, so none can be initialised:\n  ${c.vault.namespace}/vault-0: no such pod`,
      ),
    });
    expect(progress.some((p) => p.startsWith(`waiting for ${c.vault.namespace}/vault-0 (not created) to run`))).toBe(
      true,
    );
  });

  it("says why vault-0 does not run: its unbound claim and the scheduler's reason", async () => {
    const c = cluster(`vsched-pvc-${id}`, { timeout: '6s', replicas: 1 });
    const ns = c.vault.namespace;
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await kube.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-vault-0', namespace: ns },
      spec: {
        storageClassName: 'no-such-class',
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '10Gi' } },
      },
    });
    await kube.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'vault-0', namespace: ns },
      spec: {
        containers: [
          { name: 'vault', image: 'hashicorp/vault', volumeMounts: [{ name: 'data', mountPath: '/vault/data' }] },
        ],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-vault-0' } }],
      },
    });
    const err = (await createVaultInitStep()
      .apply(labContext(env, c))
      .catch((e: unknown) => e)) as { code: string; message: string; hint: string };
    expect(err.code).toBe('WAIT_TIMEOUT');
    expect(err.message).toContain(`no Vault server runs after 6s`);
    expect(err.message).toContain(`${ns}/vault-0: Pending; `);
    expect(err.message).toContain('PersistentVolumeClaim data-vault-0 is Pending (StorageClass no-such-class)');
    expect(err.message).toMatch(/Unschedulable: 0\/3 nodes are available/);
    expect(err.hint).toContain('StorageClass');
  });
});
