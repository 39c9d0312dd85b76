/**
 * Shared pieces for the lab-backed vault-init tests: a cluster config pointing at the lab, a platform.yaml on
 * disk for the CLI, a step context built by hand, a one-step runner run (real journal state under a temp
 * PLATCTL_HOME), a real child platctl process (for SIGKILL fault injection), and the one-step pipeline that
 * child loads through PLATCTL_TEST_STEPS (steps/index.ts is the lead's).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { connectKube } from '../../src/clients/kube.js';
import { deleteAndWait, settle } from '../../src/clients/namespaces.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { baseOf, createStepContext } from '../../src/runner/context.js';
import { runBootstrap } from '../../src/runner/pipeline.js';
import type { RunReport } from '../../src/runner/report.js';
import { type StateSession, withSession } from '../../src/runner/session.js';
import type { Step } from '../../src/step.js';
import { vaultInitStep } from '../../steps/vault-init.js';
import type { LabEnv } from '../lab/env.js';
import { labCluster as baseCluster, labRawCluster } from './lab-cluster.js';
import { memoryLogger } from './memory-logger.js';

const repo = path.resolve(import.meta.dirname, '../..');

/**
 * The raw (pre-schema) cluster entry: lab kubeconfig, moto's account, and the given vault section. Vault's
 * namespace is in the mesh, so its pod serves plain HTTP: what the lab's OpenBao serves behind kwok's forward.
 */
export function rawCluster(env: LabEnv, name: string, vault: Record<string, unknown>): Record<string, unknown> {
  return labRawCluster(env, name, { istio: { namespaces: [vault.namespace ?? 'vault'] }, vault });
}

/**
 * A Vault server pod as far as vault-init needs one: `vault-0` in `namespace`, placed by kube-scheduler and run by
 * kwok (after the pod-ready delay), which forwards its port 8200 to the lab's OpenBao. Returns the cleanup, which
 * deletes the namespace and waits until it is gone.
 */
export async function vaultPod(env: LabEnv, namespace: string): Promise<() => Promise<void>> {
  const kube = await connectKube({ kubeconfig: env.kubeconfig });
  const ns = { apiVersion: 'v1', kind: 'Namespace', name: namespace };
  await settle(kube, ns);
  if (!(await kube.get(ns))) await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await kube.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'vault-0', namespace, labels: { 'app.kubernetes.io/name': 'vault', component: 'server' } },
    spec: { containers: [{ name: 'vault', image: 'hashicorp/vault:1.21.1', ports: [{ containerPort: 8200 }] }] },
  });
  return async () => {
    await deleteAndWait(kube, ns);
  };
}

/** A validated cluster config. */
export function labCluster(env: LabEnv, name: string, vault: Record<string, unknown>): ClusterConfig {
  return baseCluster(env, name, { istio: { namespaces: [vault.namespace ?? 'vault'] }, vault });
}

/** Writes `<dir>/platform.yaml` with the given cluster entries; returns its path. */
export async function writePlatformYaml(dir: string, ...clusters: Record<string, unknown>[]): Promise<string> {
  const file = path.join(dir, 'platform.yaml');
  await writeFile(file, stringify({ clusters }));
  return file;
}

/** A step context built by hand (what the runner would give a step). */
export function stepContext(env: LabEnv, cluster: ClusterConfig, o: { dryRun?: boolean } = {}) {
  const log = memoryLogger();
  const ctx = createStepContext({
    cluster,
    log,
    kube: () => connectKube({ kubeconfig: env.kubeconfig }),
    dryRun: o.dryRun,
    yes: true,
    progress: () => {},
  });
  return { ctx, log };
}

/** Runs `steps` through the real runner with journal state under $PLATCTL_HOME (set by the test). */
export async function runSteps(env: LabEnv, cluster: ClusterConfig, steps: Step[], dryRun = false): Promise<RunReport> {
  const { ctx, log } = stepContext(env, cluster, { dryRun });
  const session = { cluster: cluster.name, log, command: 'test', kube: ctx.kube, lock: !dryRun };
  const run = (s: StateSession) => runBootstrap({ steps, base: baseOf(ctx), session: s, tty: false });
  return withSession(session, async (s) => (await run(s)).report);
}

/** The pipeline for child processes (PLATCTL_TEST_STEPS=test/helpers/lab-vault.ts): just vault-init. */
export const steps: readonly Step[] = [vaultInitStep];

/** Runs the real CLI from source in a child node process (no TTY); never rejects, returns the exit code or signal. */
export function runPlatctl(args: string[], env: Record<string, string>) {
  return execa(process.execPath, ['--import', 'tsx', path.join(repo, 'test/helpers/platctl-entry.ts'), ...args], {
    cwd: repo,
    env: { ...env, NO_COLOR: '1' },
    extendEnv: true,
    reject: false,
    timeout: 120_000,
  });
}
