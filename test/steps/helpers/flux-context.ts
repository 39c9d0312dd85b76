/**
 * Test helpers for the flux steps against the lab: a cluster config pointing at the lab (apiserver, fixture
 * install.yaml, fleet repo over sshd), a hand-built step context with a kube client that counts reads and
 * writes, an exec that can intercept a command, and fleet repo helpers that go through the operator's key.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { createExec, type Exec } from '../../../src/clients/exec.js';
import { connectKube, type KubeClient } from '../../../src/clients/kube.js';
import { settle } from '../../../src/clients/namespaces.js';
import { createPrompter, type Prompter } from '../../../src/clients/prompt.js';
import { validateConfig } from '../../../src/config/load.js';
import type { ClusterConfig } from '../../../src/config/schema.js';
import { syncRefs } from '../../../src/flux/wait.js';
import type { GitHost } from '../../../src/githost/types.js';
import { memoryLogger } from '../../../src/log.js';
import { createStepContext } from '../../../src/runner/context.js';
import type { StepOutputs } from '../../../src/state/types.js';
import { saveEnv } from '../../helpers/saved-env.js';
import { FIXTURES } from '../../lab/config.js';
import type { LabEnv } from '../../lab/env.js';
import type { FluxRef, FluxStatus, PretendController } from '../../lab/pretend-controller.js';

/** The fixture install.yaml (Flux v2.9.4). */
export const FLUX_INSTALL = path.join(FIXTURES, 'flux', 'install.yaml');

/** A unique cluster name, so parallel runs and other engineers' tests never share a fleet path. */
export const uniqueName = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

/** A validated cluster config aimed at the lab. */
export function labCluster(env: LabEnv, name: string, extra: Record<string, unknown> = {}): ClusterConfig {
  const raw = {
    name,
    aws: { accountId: '123456789012', region: 'us-east-1' },
    kubernetes: { version: '1.34', access: 'kubeconfig', kubeconfig: env.kubeconfig },
    fleet: { url: env.fleetUrl, branch: 'main' },
    flux: { version: 'v2.9.4', manifests: FLUX_INSTALL, timeout: '30s' },
    ...extra,
  };
  const cluster = validateConfig({ clusters: [raw] }, 'flux test config').clusters[0];
  if (!cluster) throw new Error('config lost its cluster');
  return cluster;
}

/** Read and write counts of a wrapped kube client. */
export interface KubeCounts {
  reads: number;
  writes: number;
  calls: string[];
}

/** Wraps a client so a test can assert "one read, zero writes". */
export function countingKube(inner: KubeClient): { kube: KubeClient; counts: KubeCounts } {
  const counts: KubeCounts = { reads: 0, writes: 0, calls: [] };
  const wrap =
    <A extends unknown[], R>(verb: string, write: boolean, fn: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> => {
      if (write) counts.writes++;
      else counts.reads++;
      counts.calls.push(verb);
      return fn(...a);
    };
  const kube: KubeClient = {
    server: inner.server,
    get: wrap('get', false, inner.get.bind(inner)) as KubeClient['get'],
    list: wrap('list', false, inner.list.bind(inner)) as KubeClient['list'],
    create: wrap('create', true, inner.create.bind(inner)) as KubeClient['create'],
    replace: wrap('replace', true, inner.replace.bind(inner)) as KubeClient['replace'],
    apply: wrap('apply', true, inner.apply.bind(inner)) as KubeClient['apply'],
    patch: wrap('patch', true, inner.patch.bind(inner)) as KubeClient['patch'],
    delete: wrap('delete', true, inner.delete.bind(inner)),
  };
  return { kube, counts };
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

const fluxRef = (plural: string, group: string): FluxRef => ({
  group,
  version: 'v1',
  plural,
  namespace: 'flux-system',
  name: 'flux-system',
});
/** The pretend controller's names for the GitRepository and Kustomization flux-system. */
export const GIT_FLUX = fluxRef('gitrepositories', 'source.toolkit.fluxcd.io');
export const KS_FLUX = fluxRef('kustomizations', 'kustomize.toolkit.fluxcd.io');

/**
 * Plays source-controller and kustomize-controller through the PRETEND CONTROLLER: once the Kustomization
 * for `clusterPath` exists (platctl applies it after pushing), reports both objects at the fleet HEAD.
 */
export async function actAsFlux(
  env: LabEnv,
  kube: KubeClient,
  pretend: PretendController,
  clusterPath: string,
  status: (rev: string) => FluxStatus = (rev) => ({ revision: rev }),
): Promise<string> {
  const ref = {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    namespace: 'flux-system',
    name: 'flux-system',
  };
  for (let i = 0; i < 600; i++) {
    const ks = (await kube.get(ref)) as { spec?: { path?: string } } | undefined;
    if (ks?.spec?.path === `./${clusterPath}`) {
      const rev = `main@sha1:${await fleetHead(env)}`;
      await pretend.setFluxReady(GIT_FLUX, { revision: rev });
      await pretend.setFluxReady(KS_FLUX, status(rev));
      return rev;
    }
    await sleep(100);
  }
  throw new Error(`the Kustomization for ./${clusterPath} never appeared`);
}
