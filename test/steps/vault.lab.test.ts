/**
 * Step `vault` against the lab: the lab's real helm installs the upstream Vault chart 0.34.1
 * (../shared/fixtures/charts/vault) into the real kube-apiserver, through the real runner, with the kms and
 * iam steps' outputs seeded in state and the storage step applied. The objects are asserted as the apiserver
 * stores them; the StatefulSet controller, kube-scheduler and kwok run the servers, one per node, on volumes of
 * the gp3 class (bound through the lab's EBS provisioner).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient, KubeObject } from '../../src/clients/kube.js';
import { StateSession } from '../../src/runner/session.js';
import { vaultStep } from '../../steps/vault.js';
import { labCluster, labContext, runStepOnce } from '../helpers/helm-context.js';
import { withLabStorage } from '../helpers/lab-storage.js';
import { lab } from '../lab/env.js';

const env = lab();
const name = `vault-${process.pid}`;
const vaultNs = `vault-${process.pid}`;
const alias = `alias/${name}-vault`;
const roleArn = `arn:aws:iam::123456789012:role/${name}-vault`;
const outputs = { kms: { vaultKeyAlias: alias }, iam: { vaultRoleArn: roleArn } };
// The namespace is in the mesh: Istio's mTLS covers Vault, so the pod serves plain HTTP.
const cluster = labCluster(env, name, {
  istio: { version: '1.30.3', tags: ['prod-stable'], namespaces: [vaultNs] },
  vault: { chart: labCluster(env, name).vault.chart, namespace: vaultNs, replicas: 3, keyShares: 3, keyThreshold: 2 },
});
const ref = (kind: string, n: string, apiVersion = 'v1') => ({ apiVersion, kind, namespace: vaultNs, name: n });

let home: string;
let kube: KubeClient;
let storageCleanup: (() => Promise<void>) | undefined;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'platctl-vault-'));
  process.env.PLATCTL_HOME = home;
  kube = await labContext(env, cluster).kube();
  storageCleanup = await withLabStorage(env, cluster);
  // The kms and iam steps ran earlier in the pipeline: their outputs are in state.
  const { session } = await StateSession.open({
    cluster: name,
    log: labContext(env, cluster).log,
    command: 'test',
    kube: async () => kube,
    lock: true,
  });
  await session.store.update((s) => {
    s.steps.kms = { status: 'done', outputs: outputs.kms };
    s.steps.iam = { status: 'done', outputs: outputs.iam };
  });
  await session.close();
});

afterAll(async () => {
  await vaultStep.destroy(labContext(env, cluster, { outputs }));
  await storageCleanup?.();
  await rm(home, { recursive: true, force: true });
});

describe('vault step (lab)', () => {
  it('reports absent; --dry-run changes summarise the values (alias, role, raft peers, TLS choice)', async () => {
    const r = await vaultStep.check(labContext(env, cluster, { outputs, dryRun: true }));
    expect(r.status).toBe('absent');
    const text = r.changes?.join('\n') ?? '';
    expect(text).toContain(`+ helm release ${vaultNs}/vault`);
    expect(text).toContain(`seal: awskms ${alias} (us-east-1)`);
    expect(text).toContain(roleArn);
    expect(text).toMatch(/3 replicas, setNodeId, retry_join vault-0, vault-1, vault-2/);
    expect(text).toMatch(/TLS: Istio mTLS/);
    expect(text).toContain('Raft volumes: StorageClass gp3');
  });

  it('installs the release: helm values and the objects in the apiserver both say HA raft, 3 peers, awskms, IRSA', async () => {
    const ctx = labContext(env, cluster);
    const report = await runStepOnce(ctx, vaultStep);
    expect(report.steps[0]).toMatchObject({ result: 'applied', outputs: { release: 'vault', namespace: vaultNs } });

    const got = await execa(env.bins.helm, [
      'get',
      'values',
      'vault',
      '-n',
      vaultNs,
      '-o',
      'json',
      '--kubeconfig',
      env.kubeconfig,
    ]);
    const values = JSON.parse(got.stdout) as {
      server: {
        ha: { enabled: boolean; replicas: number; raft: { enabled: boolean; setNodeId: boolean; config: string } };
        affinity: string;
        serviceAccount: { annotations: Record<string, string> };
      };
      global: { tlsDisable: boolean };
    };
    expect(values.server.ha).toMatchObject({ enabled: true, replicas: 3, raft: { enabled: true, setNodeId: true } });
    expect(values.server.ha.raft.config.match(/retry_join \{/g)).toHaveLength(3);
    expect(values.server.ha.raft.config).toContain(`kms_key_id = "${alias}"`);
    expect(values.server.affinity).toMatch(/podAntiAffinity:\n {2}requiredDuringSchedulingIgnoredDuringExecution/);
    expect(values.server.serviceAccount.annotations).toEqual({ 'eks.amazonaws.com/role-arn': roleArn });
    expect(values.global.tlsDisable).toBe(true);

    type Sts = KubeObject & {
      spec: {
        replicas: number;
        template: {
          spec: {
            affinity: {
              podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { topologyKey: string }[] };
            };
          };
        };
      };
    };
    const sts = await kube.get<Sts>(ref('StatefulSet', 'vault', 'apps/v1'));
    expect(sts?.spec.replicas).toBe(3);
    expect(
      sts?.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]?.topologyKey,
    ).toBe('kubernetes.io/hostname');
    const sa = await kube.get(ref('ServiceAccount', 'vault'));
    expect(sa?.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(roleArn);
    const cm = await kube.get<KubeObject & { data: Record<string, string> }>(ref('ConfigMap', 'vault-config'));
    const hcl = cm?.data['extraconfig-from-values.hcl'] ?? '';
    for (const i of [0, 1, 2]) expect(hcl).toContain(`leader_api_addr = "http://vault-${i}.vault-internal:8200"`);
    expect(hcl).toMatch(new RegExp(`seal "awskms" \\{\\n\\s+region = "us-east-1"\\n\\s+kms_key_id = "${alias}"`));
    expect(hcl).toContain('storage "raft"');

    // The step waited for the servers to run: one per node (required anti-affinity), each on a bound gp3 volume.
    type Pod = KubeObject & { spec: { nodeName?: string }; status: { phase: string } };
    const pods = await Promise.all([0, 1, 2].map((i) => kube.get<Pod>(ref('Pod', `vault-${i}`))));
    expect(pods.map((p) => p?.status.phase)).toEqual(['Running', 'Running', 'Running']);
    expect(new Set(pods.map((p) => p?.spec.nodeName)).size).toBe(3);
    type Pvc = KubeObject & { spec: { storageClassName?: string }; status: { phase: string } };
    for (const i of [0, 1, 2]) {
      const pvc = await kube.get<Pvc>(ref('PersistentVolumeClaim', `data-vault-${i}`));
      expect(pvc?.spec.storageClassName).toBe('gp3');
      expect(pvc?.status.phase).toBe('Bound');
    }
  });

  it('a re-run is up to date: one API read, no helm, no writes', async () => {
    const ctx = labContext(env, cluster);
    const report = await runStepOnce(ctx, vaultStep);
    expect(report.steps[0]).toMatchObject({ result: 'up-to-date', detail: `Vault ${vaultNs}/vault: up to date` });
    expect(ctx.exec.calls).toHaveLength(0);
    expect((await ctx.kubeClient()).counts).toMatchObject({ reads: 1, writes: 0 });
    expect((await vaultStep.check(labContext(env, cluster, { outputs }))).status).toBe('up-to-date');
  });

  it('a hand edit (replicas 1) is drift in the cheap check, and apply puts 3 back', async () => {
    await execa(env.bins.helm, [
      'upgrade',
      'vault',
      cluster.vault.chart,
      '-n',
      vaultNs,
      '--reuse-values',
      '--set',
      'server.ha.replicas=1',
      '--kubeconfig',
      env.kubeconfig,
    ]);
    const cheap = await vaultStep.check(labContext(env, cluster, { outputs, deep: false }));
    expect(cheap).toMatchObject({ status: 'drift', detail: `${vaultNs}/vault: values differ at server.ha.replicas` });
    await vaultStep.apply(labContext(env, cluster, { outputs }));
    expect(
      (await kube.get<KubeObject & { spec: { replicas: number } }>(ref('StatefulSet', 'vault', 'apps/v1')))?.spec
        .replicas,
    ).toBe(3);
  });

  it('outside the mesh, Vault needs its TLS Secret: the check says so and apply refuses without it', async () => {
    const tlsNs = `vault-tls-${process.pid}`;
    const tls = labCluster(env, name, {
      vault: { chart: cluster.vault.chart, namespace: tlsNs, replicas: 3, keyShares: 3, keyThreshold: 2 },
    });
    try {
      const r = await vaultStep.check(labContext(env, tls, { outputs }));
      expect(r.changes).toContain(`! Secret ${tlsNs}/vault-tls (tls.crt, tls.key, ca.crt) is missing`);
      expect(r.changes?.join('\n')).toMatch(/TLS: in the pod/);
      await expect(vaultStep.apply(labContext(env, tls, { outputs }))).rejects.toMatchObject({
        code: 'VAULT_TLS',
        message: `Vault serves TLS itself, but Secret ${tlsNs}/vault-tls is missing`,
      });
    } finally {
      await vaultStep.destroy(labContext(env, tls, { outputs }));
    }
  });

  it('destroy removes the release and the namespace it created; a second destroy is a no-op', async () => {
    await vaultStep.destroy(labContext(env, cluster, { outputs }));
    expect(await kube.get(ref('StatefulSet', 'vault', 'apps/v1'))).toBeUndefined();
    expect(await kube.get(ref('ConfigMap', 'vault-config'))).toBeUndefined();
    const ns = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: vaultNs });
    expect(ns === undefined || ns.metadata.deletionTimestamp !== undefined).toBe(true);
    const again = labContext(env, cluster, { outputs });
    await vaultStep.destroy(again);
    expect(again.exec.helmVerbs()).toEqual(['uninstall']);
  });
});
