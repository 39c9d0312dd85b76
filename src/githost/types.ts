/**
 * The narrow interface platctl needs from a git host's API: one repository, its deploy keys and its webhooks.
 * Gitea (src/githost/gitea.ts) and GitHub (src/githost/github.ts) implement it; every decision (what to
 * create, what is drift, what to remove) lives once in src/githost/fleet-repo.ts and src/githost/webhook.ts.
 */

/** The providers `fleet.provider` names besides plain `ssh`. */
export type GitHostProvider = 'gitea' | 'github';

/** `owner/name` of the fleet repository, as the API addresses it. */
export interface RepoRef {
  owner: string;
  name: string;
}

/** What platctl reads of a repository. */
export interface HostRepo {
  private: boolean;
  defaultBranch: string;
  /** The token's rights on it (both hosts return them with the repository). */
  permissions: { admin: boolean; push: boolean; pull: boolean };
}

/** A deploy key as the host lists it. */
export interface HostKey {
  id: number;
  title: string;
  /** `ssh-ed25519 AAAA…` (hosts drop or keep the comment; compare with {@link sameKeyMaterial}). */
  key: string;
  readOnly: boolean;
}

/** A push webhook as platctl wants it, or as the host lists it (the host never returns the secret). */
export interface HostHook {
  id: number;
  url: string;
  /** `json` or `form`. */
  contentType: string;
  events: string[];
  active: boolean;
}

/** What platctl creates a webhook with. */
export interface HookSpec {
  url: string;
  secret: string;
  /** Always `json`: Flux's Receiver reads a JSON body. */
  contentType: 'json';
  events: string[];
}

/** One git host, for one token. Every call is bounded (see src/githost/http.ts); errors are PlatctlErrors. */
export interface GitHost {
  readonly provider: GitHostProvider;
  /** The API base, for messages: `https://api.github.com`, `https://gitea.example.com/api/v1`. */
  readonly apiUrl: string;
  /** The login the token belongs to. */
  currentUser(): Promise<string>;
  /** The repository, or undefined when it does not exist (or the token cannot see it). */
  getRepo(repo: RepoRef): Promise<HostRepo | undefined>;
  /**
   * Creates a private repository with `branch` initialised (one commit). `personal`: under the token's own
   * user, else under the organisation `repo.owner`.
   */
  createRepo(repo: RepoRef, o: { branch: string; personal: boolean; description: string }): Promise<HostRepo>;
  listDeployKeys(repo: RepoRef): Promise<HostKey[]>;
  addDeployKey(repo: RepoRef, key: { title: string; key: string; readOnly: boolean }): Promise<HostKey>;
  deleteDeployKey(repo: RepoRef, id: number): Promise<void>;
  listHooks(repo: RepoRef): Promise<HostHook[]>;
  createHook(repo: RepoRef, hook: HookSpec): Promise<HostHook>;
  deleteHook(repo: RepoRef, id: number): Promise<void>;
}

/** `type base64` of a public key line: comments and options dropped, so hosts that strip comments compare equal. */
export function keyMaterial(line: string): string {
  const words = line.trim().split(/\s+/);
  const i = words.findIndex((w) => /^(ssh-|ecdsa-|sk-)/.test(w));
  return i < 0 ? line.trim() : `${words[i]} ${words[i + 1] ?? ''}`;
}

/** True when two public key lines hold the same key. */
export function sameKeyMaterial(a: string, b: string): boolean {
  return keyMaterial(a) === keyMaterial(b);
}
