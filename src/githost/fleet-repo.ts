/**
 * The fleet repository and Flux's deploy key on a git host, decided once for every provider: the pre-flight
 * (token valid, admin rights), creating a missing repository (private, `fleet.branch` initialised; an existing
 * one is never changed), registering the key read-only, and removing only keys whose material is the
 * cluster's own. A key titled as the cluster's but holding other material is drift: reported, never replaced.
 */
import { PlatctlError } from '../errors.js';
import { fingerprintOf } from '../flux/keys.js';
import type { Logger } from '../log.js';
import type { GitHostSettings } from './provider.js';
import type { GitHost, HostKey, RepoRef } from './types.js';
import { sameKeyMaterial } from './types.js';

const full = (r: RepoRef) => `${r.owner}/${r.name}`;

/** What the pre-flight found. */
export interface Preflight {
  login: string;
  exists: boolean;
}

/** Fails (exit 2) naming the missing right when the token is not an admin of an existing repository. */
function requireAdmin(s: GitHostSettings, login: string, admin: boolean, needs: string): void {
  if (admin) return;
  throw new PlatctlError(
    'GITHOST_PERMISSION',
    `${s.tokenVar} (user ${login}) lacks admin rights on ${full(s.repo)}: platctl needs them to manage ${needs}`,
    { hint: `make ${login} an admin of ${full(s.repo)}, or use a token of an admin; nothing was changed` },
  );
}

/**
 * Read-only checks before the first step: the token is accepted, and the repository is either missing (platctl
 * will create it) or administered by the token's user. Fails with exit 2 otherwise, having changed nothing.
 */
export async function preflightRepo(host: GitHost, s: GitHostSettings, webhook: boolean): Promise<Preflight> {
  const login = await host.currentUser();
  const repo = await host.getRepo(s.repo);
  if (repo) requireAdmin(s, login, repo.permissions.admin, webhook ? 'its deploy key and webhook' : 'its deploy key');
  return { login, exists: Boolean(repo) };
}

/** Creates the repository when missing (private, `branch` initialised); never changes an existing one. */
export async function ensureRepo(
  host: GitHost,
  s: GitHostSettings,
  o: { branch: string; log: Logger },
): Promise<'created' | 'exists'> {
  const repo = await host.getRepo(s.repo);
  if (repo) {
    requireAdmin(s, await host.currentUser(), repo.permissions.admin, 'its deploy key');
    if (!repo.private)
      o.log.warning(`${full(s.repo)} is public: platctl leaves an existing repository’s settings alone`);
    return 'exists';
  }
  const login = await host.currentUser();
  const personal = login.toLowerCase() === s.repo.owner.toLowerCase();
  await host.createRepo(s.repo, {
    branch: o.branch,
    personal,
    description: 'Fleet repository (GitOps): Flux syncs the platform from here. Created by platctl.',
  });
  o.log.created(`private repository ${full(s.repo)} on ${host.apiUrl} with branch ${o.branch}`);
  return 'created';
}

/** True for the titles platctl gives a cluster's keys: the base title, or a rotation's `<base> (rotated …)`. */
export function isClusterKeyTitle(title: string, base: string): boolean {
  return title === base || title.startsWith(`${base} (`);
}

/** The title of a key made by `flux rotate-key` (hosts refuse a second key with the same title). */
export function rotatedTitle(base: string, at: Date = new Date()): string {
  return `${base} (rotated ${at.toISOString().slice(0, 19)}Z)`;
}

/** The cluster's key on the host, and keys titled as the cluster's that hold other material. */
export interface KeyInspection {
  ours?: HostKey;
  strangers: HostKey[];
}

/** Lists the deploy keys and sorts out the cluster's own. */
export async function inspectKeys(host: GitHost, repo: RepoRef, publicKey: string, title: string) {
  const keys = await host.listDeployKeys(repo);
  const ours = keys.find((k) => sameKeyMaterial(k.key, publicKey));
  const strangers = keys.filter((k) => !sameKeyMaterial(k.key, publicKey) && isClusterKeyTitle(k.title, title));
  return { ours, strangers } satisfies KeyInspection;
}

const safeFingerprint = (key: string) => {
  try {
    return fingerprintOf(key);
  } catch {
    return 'unparsable key';
  }
};

/** One line per problem with the cluster's key on the host (empty: up to date). */
export function keyProblems(k: KeyInspection, repo: RepoRef, title: string, readOnly: boolean): string[] {
  const out = k.strangers.map(
    (s) => `deploy key "${s.title}" on ${full(repo)} holds another key (${safeFingerprint(s.key)})`,
  );
  if (!k.ours) out.push(`deploy key "${title}" is not registered on ${full(repo)}`);
  else if (k.ours.readOnly !== readOnly)
    out.push(`deploy key "${k.ours.title}" on ${full(repo)} is ${k.ours.readOnly ? 'read-only' : 'read-write'}`);
  return out;
}

/**
 * Registers the key (read-only unless `readOnly` is false). Up to date when the host holds it as wanted; a key
 * of the same title with other material fails the step (drift is reported, never replaced). A key of the
 * right material but the wrong access mode is platctl's own: it is registered again with the right mode.
 */
export async function ensureDeployKey(
  host: GitHost,
  repo: RepoRef,
  k: { publicKey: string; title: string; readOnly: boolean; cluster: string },
  log: Logger,
): Promise<HostKey> {
  const found = await inspectKeys(host, repo, k.publicKey, k.title);
  if (found.strangers.length > 0) {
    const which = found.strangers.map((s) => `"${s.title}" (${safeFingerprint(s.key)})`).join(', ');
    throw new PlatctlError(
      'DEPLOY_KEY_CONFLICT',
      `${full(repo)} has deploy key ${which}, not the key in Secret flux-system/flux-system (${fingerprintOf(k.publicKey)}): platctl never replaces it`,
      {
        hint: `if that key is stale, delete it on the git host and run again; \`platctl flux rotate-key ${k.cluster}\` replaces the cluster's key`,
      },
    );
  }
  const mode = k.readOnly ? 'read-only' : 'read-write';
  if (found.ours?.readOnly === k.readOnly) {
    log.info(`deploy key "${found.ours.title}" on ${full(repo)} (${mode}) up to date`);
    return found.ours;
  }
  if (found.ours) {
    // The cluster's own key with the other access mode: hosts cannot edit a key, so it is registered again.
    await host.deleteDeployKey(repo, found.ours.id);
    log.warning(`deploy key "${found.ours.title}" on ${full(repo)} was not ${mode}: registering it again`);
  }
  const added = await host.addDeployKey(repo, { title: k.title, key: k.publicKey, readOnly: k.readOnly });
  log.created(`${mode} deploy key "${k.title}" (${fingerprintOf(k.publicKey)}) on ${full(repo)}`);
  return added;
}

/** Removes every deploy key holding `publicKey` (and nothing else); returns how many went. */
export async function removeDeployKey(host: GitHost, repo: RepoRef, publicKey: string): Promise<number> {
  const keys = (await host.listDeployKeys(repo)).filter((k) => sameKeyMaterial(k.key, publicKey));
  for (const k of keys) await host.deleteDeployKey(repo, k.id);
  return keys.length;
}
