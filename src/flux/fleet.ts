/**
 * The fleet repo writes. platctl clones into a private temp dir with the OPERATOR's git credentials (the
 * deploy key is read-only and never used here), writes the cluster's files, commits only when something
 * changed and pushes; a push that lost a race (non-fast-forward) starts again from a fresh clone.
 *
 * Files platctl owns outright (gotk-components.yaml, gotk-sync.yaml) are rewritten as needed. Files meant
 * for people to edit (kustomization.yaml, the adoption manifests) carry a first-line marker with the hash of
 * what platctl wrote; once someone edits one, the hash no longer matches and platctl leaves it alone.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Exec } from '../clients/exec.js';
import type { KubeObject } from '../clients/kube.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { checkoutBranch, git, isNonFastForward, parseSshUrl, sshFailureReason } from '../git/git.js';
import type { Logger } from '../log.js';
import { PLATFORM_VARS } from '../vars/names.js';
import { fluxPatches, kustomizePatches } from './manifests.js';
import { toFleetYaml } from './substitution.js';

/** One file platctl wants in the fleet repo, relative to the repo root. */
export interface FleetFile {
  path: string;
  content: string;
  /** People may edit it: written with a marker, never overwritten once edited. */
  editable: boolean;
}

/** What a sync found or did. */
export interface FleetResult {
  /** Commit at the tip of the branch after the sync (undefined: empty repo in a dry run). */
  sha?: string;
  /** Flux's revision string for it: `<branch>@sha1:<sha>`. */
  revision?: string;
  /** Files written (or, read-only, that would be). */
  changed: string[];
  /** User-edited files left alone. */
  kept: string[];
  committed: boolean;
}

const MARKER = '# platctl:managed sha256=';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The cluster's folder in the fleet repo: `fleet.path`, or `clusters/<cluster>`. */
export function clusterPath(cluster: ClusterConfig): string {
  return (cluster.fleet.path ?? `clusters/${cluster.name}`).replace(/^\.\//, '').replace(/\/+$/, '');
}

/**
 * `postBuild` of every Kustomization platctl writes in flux-system: the cluster variables (ConfigMap
 * flux-system/platform-vars, written by the `vars` step) are substituted into what it applies.
 */
export function platformVarsPostBuild(): { substituteFrom: { kind: 'ConfigMap'; name: string }[] } {
  return { substituteFrom: [{ kind: 'ConfigMap', name: PLATFORM_VARS.name }] };
}

/** The GitRepository and Kustomization that make Flux sync the cluster's folder (gotk-sync.yaml). */
export function syncObjects(cluster: ClusterConfig): { gitRepository: KubeObject; kustomization: KubeObject } {
  const metadata = { name: 'flux-system', namespace: 'flux-system' };
  return {
    gitRepository: {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata,
      spec: {
        interval: '1m0s',
        ref: { branch: cluster.fleet.branch },
        secretRef: { name: 'flux-system' },
        url: parseSshUrl(cluster.fleet.url).sshUrl,
      },
    },
    kustomization: {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata,
      spec: {
        interval: '10m0s',
        path: `./${clusterPath(cluster)}`,
        prune: true,
        // The lockdown makes "default" the default service account; the root sync runs as the controller.
        serviceAccountName: 'kustomize-controller',
        sourceRef: { kind: 'GitRepository', name: 'flux-system' },
        postBuild: platformVarsPostBuild(),
      },
    },
  };
}

/** The three files of `<clusterPath>/flux-system/`. */
export function fluxSystemFiles(cluster: ClusterConfig, components: readonly KubeObject[]): FleetFile[] {
  const dir = `${clusterPath(cluster)}/flux-system`;
  const sync = syncObjects(cluster);
  const head = (what: string) => `# ${what} — written by platctl for cluster ${cluster.name}; platctl rewrites it.\n`;
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: ['gotk-components.yaml', 'gotk-sync.yaml'],
    // Multi-tenant lockdown and vertical scaling: see docs/steps/flux.md.
    patches: kustomizePatches(fluxPatches(cluster)),
  };
  return [
    {
      path: `${dir}/gotk-components.yaml`,
      content: head(`Flux ${cluster.flux.version} components`) + toFleetYaml(components),
      editable: false,
    },
    {
      path: `${dir}/gotk-sync.yaml`,
      content: head('Flux sync') + toFleetYaml([sync.gitRepository, sync.kustomization]),
      editable: false,
    },
    { path: `${dir}/kustomization.yaml`, content: stringify(kustomization, { lineWidth: 0 }), editable: true },
  ];
}

/** Prefixes an editable file with the marker holding the hash of its body. */
export function withMarker(body: string): string {
  return `${MARKER}${sha256(body)} (platctl stops updating this file once you edit it)\n${body}`;
}

/** True when a file still holds exactly what platctl wrote (marker present, hash matches). */
export function isPristine(existing: string): boolean {
  const nl = existing.indexOf('\n');
  const first = nl < 0 ? existing : existing.slice(0, nl);
  if (!first.startsWith(MARKER)) return false;
  return first.slice(MARKER.length).split(' ')[0] === sha256(existing.slice(nl + 1));
}

/** Flux's revision string for a commit on a branch. */
export function fluxRevision(branch: string, sha: string): string {
  return `${branch}@sha1:${sha}`;
}

/** Decides, against a working copy, which files to write and which user-edited ones to keep. */
async function plan(dir: string, files: readonly FleetFile[]) {
  const write: { file: FleetFile; content: string }[] = [];
  const kept: string[] = [];
  for (const f of files) {
    const want = f.editable ? withMarker(f.content) : f.content;
    const have = await readFile(path.join(dir, f.path), 'utf8').catch(() => undefined);
    if (have === want) continue;
    if (f.editable && have !== undefined && !isPristine(have)) kept.push(f.path);
    else write.push({ file: f, content: want });
  }
  return { write, kept };
}

/** Options for {@link syncFleet}. */
export interface FleetOptions {
  exec: Exec;
  log: Logger;
  url: string;
  branch: string;
  message: string;
  progress?: (msg: string) => void;
  /** Read-only: report what would change, never commit or push. */
  dryRun?: boolean;
  /** How many times to start over after a lost push race (default 4). */
  attempts?: number;
  /** Files or folders to delete in the same commit; ones already absent are no change. */
  remove?: readonly string[];
}

/** Commits with the operator's identity; falls back to a platctl identity when git has none configured. */
async function commit(exec: Exec, dir: string, message: string): Promise<void> {
  const email = await git(exec, ['config', '--get', 'user.email'], { cwd: dir, okExitCodes: [1] });
  const identity =
    email.stdout.trim() || process.env.GIT_COMMITTER_EMAIL
      ? []
      : ['-c', 'user.name=platctl', '-c', `user.email=platctl@${os.hostname()}`];
  await git(exec, [...identity, 'commit', '-q', '-m', message], { cwd: dir });
}

/** Writes the files to the fleet repo (or, with dryRun, reports what would change). */
export async function syncFleet(files: readonly FleetFile[], o: FleetOptions): Promise<FleetResult> {
  const attempts = o.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'platctl-fleet-'));
    try {
      o.progress?.(`cloning ${o.url} (${o.branch})`);
      const base = await checkoutBranch(o.exec, o.url, o.branch, path.join(dir, 'repo'));
      const repo = path.join(dir, 'repo');
      const { write, kept } = await plan(repo, files);
      const removed = (o.remove ?? []).filter((p) => existsSync(path.join(repo, p)));
      const changed = [...write.map((w) => w.file.path), ...removed];
      const result = (sha: string | undefined, committed: boolean): FleetResult => ({
        sha,
        revision: sha && fluxRevision(o.branch, sha),
        changed,
        kept,
        committed,
      });
      if (changed.length === 0 || o.dryRun) return result(base, false);
      for (const w of write) {
        await mkdir(path.dirname(path.join(repo, w.file.path)), { recursive: true });
        await writeFile(path.join(repo, w.file.path), w.content);
      }
      if (removed.length > 0) await git(o.exec, ['rm', '-r', '-q', '--', ...removed], { cwd: repo });
      if (write.length > 0) await git(o.exec, ['add', '--', ...write.map((w) => w.file.path)], { cwd: repo });
      await commit(o.exec, repo, o.message);
      const sha = (await git(o.exec, ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim();
      o.progress?.(`pushing ${changed.length} file(s) to ${o.url} (${o.branch})`);
      const pushed = await git(o.exec, ['push', '-q', 'origin', `HEAD:refs/heads/${o.branch}`], {
        cwd: repo,
        okExitCodes: [1, 128],
      });
      if (pushed.exitCode === 0) return result(sha, true);
      if (!isNonFastForward(pushed.stderr) || attempt >= attempts) {
        throw new PlatctlError(
          'TOOL_FAILED',
          `cannot push to ${o.url} (${o.branch}): ${sshFailureReason(pushed.stderr)}`,
          {
            hint: 'platctl pushes as you: your ssh key or agent needs write access to the fleet repo (the Flux deploy key is read-only on purpose)',
          },
        );
      }
      o.log.warning(
        `push to ${o.url} (${o.branch}) lost a race with another commit: cloning again (attempt ${attempt + 1}/${attempts})`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
