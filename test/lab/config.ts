/**
 * Where the lab lives and which versions it runs: the single place to bump a version.
 */
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pinned versions of every lab component. A new version builds into a new cache dir. */
export const VERSIONS = {
  kube: 'v1.34.4',
  /** kube-scheduler, from the same k8s.io/kubernetes module as the apiserver (its own cache dir). */
  scheduler: 'v1.34.4',
  etcd: 'v3.5.21',
  helm: 'v3.19.5',
  tofu: 'v1.10.10',
  kwok: 'v0.8.0',
  // The Flux controllers Flux v2.9.4 ships (helm-controller v1.6.4: v1.6.3 pins a helm fork the proxy refuses).
  'source-controller': 'v1.9.4',
  'kustomize-controller': 'v1.9.4',
  'helm-controller': 'v1.6.4',
  'notification-controller': 'v1.9.3',
  gitea: 'v1.26.0',
  moto: '5.2.5',
  openbao: '2.7.2',
} as const;

/** Components built from Go modules by `build/go-build.sh`, in build order (the ones every test needs first). */
export const GO_COMPONENTS = [
  'kube',
  'etcd',
  'helm',
  'tofu',
  'scheduler',
  'kwok',
  'source-controller',
  'kustomize-controller',
  'helm-controller',
  'notification-controller',
  'gitea',
] as const;

/**
 * About how long each first install takes on an idle 2-core machine from empty caches, in `lab install`'s order
 * (the Go build cache warmed by the builds before it, the next component's modules downloading meanwhile):
 * measured 2026-12-03, see docs/lab.md. `lab install` says what to expect from these.
 */
export const BUILD_ESTIMATE_S: Partial<Record<(typeof GO_COMPONENTS)[number] | 'moto' | 'openbao', number>> = {
  kube: 500,
  etcd: 55,
  helm: 145,
  tofu: 340,
  scheduler: 20,
  kwok: 210,
  'source-controller': 390,
  'kustomize-controller': 210,
  'helm-controller': 180,
  'notification-controller': 200,
  gitea: 325,
  moto: 75,
  openbao: 12,
};
/** Components installed from PyPI into a venv under the cache. */
export const PY_COMPONENTS = ['moto', 'openbao'] as const;

export type GoComponent = (typeof GO_COMPONENTS)[number];
export type PyComponent = (typeof PY_COMPONENTS)[number];
export type BuiltComponent = GoComponent | PyComponent;

/** The repository root (this file is test/lab/config.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Directory of this lab's scripts. */
export const LAB_SRC = join(REPO_ROOT, 'test', 'lab');

/** Fixtures shared by the project, beside the repository. */
export const FIXTURES = resolve(REPO_ROOT, '..', 'shared', 'fixtures');

/** Binary cache root; `PLATCTL_LAB_CACHE` overrides `~/.cache/platctl-lab`. */
export function cacheRoot(): string {
  return process.env.PLATCTL_LAB_CACHE || join(homedir(), '.cache', 'platctl-lab');
}

/** Cache dir of one component at its pinned version, e.g. `~/.cache/platctl-lab/helm-v3.19.5`. */
export function componentDir(name: BuiltComponent): string {
  return join(cacheRoot(), `${name}-${VERSIONS[name]}`);
}

/** The lab's runtime dir: `<repo>/.lab`, or `PLATCTL_LAB_DIR` when set. */
export function labDir(): string {
  return process.env.PLATCTL_LAB_DIR || join(REPO_ROOT, '.lab');
}

/**
 * How many labs the lab test project runs, one per vitest worker (`PLATCTL_LAB_WORKERS`, default 2). Each lab is a
 * whole cluster of its own (apiserver, moto, OpenBao, git servers, Flux controllers), so files on different labs
 * share nothing but the machine: most of a lab file's time is waiting on controllers, pods and Vault, not CPU.
 */
export function labWorkers(): number {
  const raw = process.env.PLATCTL_LAB_WORKERS ?? '2';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`PLATCTL_LAB_WORKERS must be 1–8, not "${raw}"`);
  return n;
}

/** The dirs of the test run's labs: {@link labDir} for the first, `<labDir>-<n>` for the n-th. */
export function labDirs(count = labWorkers()): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? labDir() : `${labDir()}-${i + 1}`));
}

/** Well-known paths inside the lab dir. */
export function labPaths(dir = labDir()) {
  return {
    dir,
    logs: join(dir, 'logs'),
    run: join(dir, 'run'),
    data: join(dir, 'data'),
    pki: join(dir, 'pki'),
    ssh: join(dir, 'ssh'),
    git: join(dir, 'git'),
    state: join(dir, 'state.json'),
    envJson: join(dir, 'lab-env.json'),
    envSh: join(dir, 'env'),
    kubeconfig: join(dir, 'kubeconfig'),
    /** `<pid> <random>` of the test file that has this lab (test/lab/env.ts `claimLab`). */
    claim: join(dir, 'run', 'test-file.claim'),
    /** The claim's history: claimed, released, taken over (shown when a file lost its claim). */
    claimLog: join(dir, 'run', 'test-file.claim.log'),
  };
}

/** Paths of the lab's paths object. */
export type LabPaths = ReturnType<typeof labPaths>;

/** Log file of one component (or of one component's build). */
export function logFile(component: string, dir = labDir()): string {
  return join(labPaths(dir).logs, `${component}.log`);
}

/** Region and dummy credentials moto accepts; nothing real is ever used. */
export const AWS_LAB = {
  region: 'us-east-1',
  accessKeyId: 'testing',
  secretAccessKey: 'testing',
} as const;
