/**
 * Test helpers for the flux steps against the lab: a cluster config pointing at the lab (apiserver, fixture
 * install.yaml, fleet repo over sshd, the loopback chart repository), the deploy key the real source-controller
 * clones with, a hand-built step context with a kube client that counts reads and
 * writes, an exec that can intercept a command, and fleet repo helpers that go through the operator's key.
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { createExec, type Exec } from '../../src/clients/exec.js';
import { connectKube, type KubeClient, type KubeObject } from '../../src/clients/kube.js';
import { createNamespace, settle } from '../../src/clients/namespaces.js';
import { createPrompter, type Prompter } from '../../src/clients/prompt.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { readStoredKey, secretObject } from '../../src/flux/deploy-key.js';
import { deployKeyTitle, generateDeployKey } from '../../src/flux/keys.js';
import { syncRefs } from '../../src/flux/wait.js';
import type { GitHost } from '../../src/githost/types.js';
import { createStepContext } from '../../src/runner/context.js';
import type { StepOutputs } from '../../src/state/types.js';
import { varsStep } from '../../steps/vars.js';
import { FIXTURES } from '../lab/config.js';
import type { LabEnv } from '../lab/env.js';
import { authorizeKey } from '../lab/git-ssh.js';
import { countKube, type KubeCounts } from './counting-kube.js';
import { labCluster as baseCluster } from './lab-cluster.js';
import { memoryLogger } from './memory-logger.js';
import { saveEnv } from './saved-env.js';

/** The fixture install.yaml (Flux v2.9.4). */
export const FLUX_INSTALL = path.join(FIXTURES, 'flux', 'install.yaml');

export { uniqueName } from './lab-cluster.js';

/** The lab's loopback chart repository as `flux.charts`: the real source-controller must never leave the machine. */
export function labCharts(env: LabEnv) {
  return { istio: { url: `${env.chartsUrl}/istio` }, vault: { url: `${env.chartsUrl}/hashicorp` } };
}

/** A validated cluster config aimed at the lab, with Flux from the fixture install.yaml and the lab's charts. */
export function labCluster(env: LabEnv, name: string, extra: Record<string, unknown> = {}): ClusterConfig {
  return baseCluster(env, name, {
    flux: { version: 'v2.9.4', manifests: FLUX_INSTALL, timeout: '60s', charts: labCharts(env) },
    ...extra,
  });
}

/** Read and write counts of a wrapped kube client. */
export type { KubeCounts } from './counting-kube.js';

/** Wraps a client so a test can assert "one read, zero writes". */
export function countingKube(inner: KubeClient): { kube: KubeClient; counts: KubeCounts } {
  const kube = countKube(inner);
  return { kube, counts: kube.counts };
}

/** An exec whose calls can be intercepted (`before` runs first, e.g. to push a racing commit). */
export function interceptExec(before: (file: string, args: readonly string[]) => Promise<void>): Exec {
  const real = createExec();
  return {
    run: async (file, args, opts) => {
      await before(file, args);
      return real.run(file, args, opts);
    },
  };
}

/** Options for {@link fluxContext}. */
export interface FluxContextOptions {
  kube: KubeClient;
  exec?: Exec;
  deep?: boolean;
  prompt?: Prompter;
  /** --yes (default true). */
  yes?: boolean;
  outputs?: Record<string, StepOutputs>;
  /** The git host client (default: made from the cluster's fleet.provider and the environment's token). */
  gitHost?: GitHost;
}

/** A hand-built step context (the runner builds the same from its base). */
export function fluxContext(cluster: ClusterConfig, o: FluxContextOptions) {
  const log = memoryLogger();
  const progress: string[] = [];
  const ctx = createStepContext({
    cluster,
    log,
    clients: { exec: o.exec, ...(o.gitHost ? { gitHost: async () => o.gitHost } : {}) },
    kube: async () => o.kube,
    prompt: o.prompt ?? createPrompter({ yes: true, interactive: false }),
    yes: o.yes ?? true,
    deep: o.deep ?? true,
    outputs: o.outputs,
    progress: (m) => progress.push(m),
  });
  return { ctx, log, progress };
}

/** The lab apiserver's client. */
export const labKube = (env: LabEnv) => connectKube({ kubeconfig: env.kubeconfig });

/** Makes the operator's own git credentials (the lab's read-write key) the ones this process uses. */
export function useOperatorCredentials(env: LabEnv): void {
  process.env.GIT_SSH_COMMAND = env.gitSshCommand;
}

/** What {@link fluxLabSession} returns: the setup and cleanup a flux test file runs in beforeAll and afterAll. */
export interface FluxLabSession {
  /**
   * A fresh temp PLATCTL_HOME (named `tmpPrefix`…), the operator's git credentials, flux-system settled and no
   * GitRepository or Kustomization flux-system left from an earlier file.
   */
  enter(kube: KubeClient): Promise<void>;
  /** Restores PLATCTL_HOME and GIT_SSH_COMMAND as they were when the session was made; removes the temp dir. */
  leave(): Promise<void>;
}

/** Call at module load (it remembers PLATCTL_HOME and GIT_SSH_COMMAND as they are now). */
export function fluxLabSession(env: LabEnv, tmpPrefix: string): FluxLabSession {
  const restoreEnv = saveEnv('PLATCTL_HOME', 'GIT_SSH_COMMAND');
  let tmp: string | undefined;
  return {
    async enter(kube) {
      tmp = await mkdtemp(path.join(tmpdir(), tmpPrefix));
      process.env.PLATCTL_HOME = tmp;
      useOperatorCredentials(env);
      await waitFluxNamespaceSettled(kube);
      const [gitRef, ksRef] = syncRefs();
      for (const r of [ksRef!, gitRef!]) await kube.delete(r);
    },
    async leave() {
      restoreEnv();
      if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** `git` on the bare fleet repo on disk (assertions only; changes go through ssh). */
export async function fleetGit(env: LabEnv, args: string[]): Promise<string> {
  return (await execa('git', ['--git-dir', env.fleetRepoPath, ...args])).stdout.trim();
}

/** The fleet repo's main commit. */
export const fleetHead = (env: LabEnv) => fleetGit(env, ['rev-parse', 'refs/heads/main']);

/** A file at a commit of the fleet repo, or undefined when it is not there. */
export async function fleetFile(env: LabEnv, commit: string, file: string): Promise<string | undefined> {
  const r = await execa('git', ['--git-dir', env.fleetRepoPath, 'show', `${commit}:${file}`], { reject: false });
  return r.exitCode === 0 ? r.stdout : undefined;
}

/** Commits files to the fleet repo over ssh with the operator key, as a person (or a racing run) would. */
export async function pushAsOperator(env: LabEnv, files: Record<string, string>, message: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'platctl-fleet-test-'));
  const gitEnv = {
    GIT_SSH_COMMAND: env.gitSshCommand,
    GIT_AUTHOR_NAME: 'someone else',
    GIT_AUTHOR_EMAIL: 'else@lab.invalid',
    GIT_COMMITTER_NAME: 'someone else',
    GIT_COMMITTER_EMAIL: 'else@lab.invalid',
  };
  const git = (args: string[]) => execa('git', args, { cwd: dir, env: gitEnv });
  try {
    await git(['clone', '-q', '--branch', 'main', env.fleetUrl, '.']);
    for (const [file, content] of Object.entries(files)) {
      await execa('mkdir', ['-p', path.dirname(path.join(dir, file))]);
      await writeFile(path.join(dir, file), content);
    }
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', message]);
    await git(['push', '-q', 'origin', 'main']);
    return (await git(['rev-parse', 'HEAD'])).stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Waits until namespace flux-system and the Flux CRDs are not being deleted (a previous test file's destroy
 * may still be finishing: applying over a terminating object fails).
 */
export async function waitFluxNamespaceSettled(kube: KubeClient, timeoutMs = 90_000): Promise<void> {
  const refs = [
    { apiVersion: 'v1', kind: 'Namespace', name: 'flux-system' },
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: 'kustomizations.kustomize.toolkit.fluxcd.io',
    },
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: 'gitrepositories.source.toolkit.fluxcd.io',
    },
  ];
  for (const ref of refs) await settle(kube, ref, { timeoutMs });
}

/**
 * The flux-system deploy key for a test cluster, as the flux-secret step leaves it: generated, stored in Secret
 * flux-system/flux-system with the lab sshd's known_hosts, and added READ-ONLY on the lab's git server (PLAYED:
 * the git host's admin). The real source-controller clones the fleet repo with it. Returns the public key line
 * (revoke it in cleanup with `revokeKey`).
 */
export async function seedDeployKey(env: LabEnv, kube: KubeClient, cluster: ClusterConfig): Promise<string> {
  await createNamespace(kube, 'flux-system');
  const existing = await readStoredKey(kube);
  const publicKey = existing?.publicKey ?? generateAndStore(kube, cluster, await readFile(env.knownHosts, 'utf8'));
  const line = await publicKey;
  await authorizeKey(line, { readOnly: true });
  return line;
}

/**
 * What the pipeline's `vars` step does before `flux`: writes ConfigMap flux-system/platform-vars (the real
 * step, from the config and the given outputs), which every Kustomization platctl writes substitutes from.
 */
export async function seedPlatformVars(
  kube: KubeClient,
  cluster: ClusterConfig,
  outputs: Record<string, StepOutputs> = {},
): Promise<void> {
  await varsStep.apply(fluxContext(cluster, { kube, outputs }).ctx);
}

async function generateAndStore(kube: KubeClient, cluster: ClusterConfig, knownHosts: string): Promise<string> {
  const key = generateDeployKey('ed25519', deployKeyTitle(cluster.name));
  await kube.create(secretObject(key, knownHosts, cluster.name));
  return key.publicKey;
}

/** The status the real source- and kustomize-controller wrote for flux-system. */
export async function fluxStatus(kube: KubeClient) {
  const [gitRef, ksRef] = syncRefs();
  type Status = KubeObject & {
    status?: {
      artifact?: { revision?: string; url?: string };
      lastAppliedRevision?: string;
      conditions?: { type: string; status: string; reason?: string; message?: string }[];
    };
  };
  const [git, ks] = await Promise.all([kube.get<Status>(gitRef!), kube.get<Status>(ksRef!)]);
  return { git: git?.status, ks: ks?.status };
}
