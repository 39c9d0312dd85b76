/**
 * Which git host a cluster's fleet repo lives on (`fleet.provider`), where its API is, which repository the
 * fleet URL names, and the token: from `GITEA_TOKEN`/`GITHUB_TOKEN` only, never a flag or the config file.
 * The token is registered with the secret masker the moment it is read.
 */
import { timeoutsOf } from '../clients/timeouts.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { parseSshUrl } from '../git/git.js';
import { registerSecret } from '../secrets.js';
import type { GitHost, GitHostProvider, RepoRef } from './types.js';

/** The environment variable holding each provider's token. */
export const TOKEN_VARS: Record<GitHostProvider, string> = { gitea: 'GITEA_TOKEN', github: 'GITHUB_TOKEN' };

/** A provider's settings, resolved from the config. */
export interface GitHostSettings {
  provider: GitHostProvider;
  apiUrl: string;
  tokenVar: string;
  repo: RepoRef;
}

/** `owner/name` from the fleet URL's path (`ssh://git@host/acme/fleet.git`, `git@host:acme/fleet.git`). */
export function repoFromUrl(url: string): RepoRef {
  const parts = parseSshUrl(url)
    .path.replace(/^\/+/, '')
    .replace(/\.git$/, '')
    .split('/');
  const [owner, name] = parts;
  if (parts.length !== 2 || !owner || !name) {
    throw new PlatctlError('CONFIG_INVALID', `fleet.url "${url}" does not name a repository as <owner>/<name>`, {
      hint: 'with fleet.provider gitea or github the URL path is the repository: ssh://git@host/acme/fleet.git',
    });
  }
  return { owner, name };
}

/** The provider's settings, or undefined for plain `ssh` (the operator adds the deploy key by hand). */
export function gitHostSettings(cluster: ClusterConfig): GitHostSettings | undefined {
  const { provider, apiUrl, url } = cluster.fleet;
  if (provider === 'ssh') return undefined;
  const api = apiUrl ?? (provider === 'github' ? 'https://api.github.com' : undefined);
  if (!api) {
    throw new PlatctlError('CONFIG_INVALID', `fleet.apiUrl is required with fleet.provider ${provider}`, {
      hint: 'set fleet.apiUrl to the server’s HTTPS address, e.g. https://gitea.example.com',
    });
  }
  return { provider, apiUrl: api, tokenVar: TOKEN_VARS[provider], repo: repoFromUrl(url) };
}

/** The token from the environment; a missing one fails before anything is done, naming the variable. */
export function readToken(s: GitHostSettings, env: NodeJS.ProcessEnv = process.env): string {
  const token = env[s.tokenVar]?.trim();
  if (!token) {
    throw new PlatctlError('GITHOST_TOKEN', `fleet.provider is ${s.provider} but ${s.tokenVar} is not set`, {
      hint: `export ${s.tokenVar} with a token that has admin rights on ${s.repo.owner}/${s.repo.name}; platctl reads it from the environment only, never from a flag or the config file`,
    });
  }
  registerSecret(token);
  return token;
}

/** The client for the cluster's git host, or undefined for `ssh`. The host's client is imported on first use. */
export async function createGitHost(
  cluster: ClusterConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<GitHost | undefined> {
  const s = gitHostSettings(cluster);
  if (!s) return undefined;
  const token = readToken(s, env);
  const http = { timeoutMs: timeoutsOf(cluster).httpMs };
  if (s.provider === 'gitea') return (await import('./gitea.js')).createGiteaHost(s.apiUrl, token, http);
  return (await import('./github.js')).createGitHubHost(s.apiUrl, token, http);
}

/** A memoised {@link createGitHost} for a context: one client per command run. */
export function gitHostGetter(cluster: ClusterConfig): () => Promise<GitHost | undefined> {
  let host: Promise<GitHost | undefined> | undefined;
  return () => {
    host ??= createGitHost(cluster);
    host.catch(() => {
      host = undefined;
    });
    return host;
  };
}
