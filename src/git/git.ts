/**
 * A thin git wrapper over ctx.exec. Two kinds of credentials, never mixed:
 * - the operator's own (ssh agent, ~/.ssh/config, GIT_SSH_COMMAND, git config) for fetch/commit/push to the
 *   fleet repo: the process environment is inherited untouched;
 * - an explicit deploy key for proving Flux's read access: written to a 0600 file in a private temp dir
 *   with the scanned known_hosts beside it, used through GIT_SSH_COMMAND, and removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Exec, ExecResult } from '../clients/exec.js';
import { PlatctlError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';

/** A parsed ssh git URL. */
export interface SshUrl {
  user?: string;
  host: string;
  port: number;
  /** Path on the server, without a leading slash for scp-like URLs. */
  path: string;
  /** The `ssh://` form Flux's GitRepository needs (scp-like URLs are converted). */
  sshUrl: string;
}

/** Parses `ssh://[user@]host[:port]/path` or scp-like `[user@]host:path`. */
export function parseSshUrl(url: string): SshUrl {
  const full = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/(.+)$/.exec(url);
  if (full) {
    const [, user, host = '', port, rest = ''] = full;
    return { user, host: host.replace(/^\[|\]$/g, ''), port: port ? Number(port) : 22, path: rest, sshUrl: url };
  }
  const scp = /^(?:([^@/]+)@)?([\w.-]+):(?!\/\/)(.+)$/.exec(url);
  if (scp) {
    const [, user, host = '', rest = ''] = scp;
    const sshUrl = `ssh://${user ? `${user}@` : ''}${host}/${rest.replace(/^\/+/, '')}`;
    return { user, host, port: 22, path: rest, sshUrl };
  }
  throw new PlatctlError('CONFIG_INVALID', `fleet.url "${url}" is not an ssh URL`, {
    hint: 'use ssh://git@host[:port]/org/repo.git or git@host:org/repo.git',
  });
}

/** The known_hosts host pattern ssh looks up: `host`, or `[host]:port` for a port other than 22. */
export function knownHostsPattern(u: Pick<SshUrl, 'host' | 'port'>): string {
  return u.port === 22 ? u.host : `[${u.host}]:${u.port}`;
}

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Environment for git run with the operator's credentials: no terminal prompts, otherwise untouched. */
export const operatorEnv: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };

/** Runs git with the operator's credentials. */
export function git(
  exec: Exec,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number; okExitCodes?: number[] } = {},
): Promise<ExecResult> {
  return exec.run('git', args, { ...opts, env: operatorEnv, timeoutMs: opts.timeoutMs ?? 120_000 });
}

/**
 * Runs `fn` with a GIT_SSH_COMMAND that uses only `privateKey` and only `knownHosts` (no agent, no user ssh
 * config, strict host key checking). The key file is 0600 in a 0700 temp dir, removed whatever happens.
 */
export async function withDeployKey<T>(
  privateKey: string,
  knownHosts: string,
  fn: (env: Record<string, string>) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'platctl-key-'));
  try {
    const key = path.join(dir, 'identity');
    const hosts = path.join(dir, 'known_hosts');
    await writeFileAtomic(key, privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`, 0o600);
    await writeFileAtomic(hosts, knownHosts.endsWith('\n') ? knownHosts : `${knownHosts}\n`, 0o600);
    const ssh = [
      'ssh -F none',
      `-i ${shQuote(key)}`,
      '-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=15',
      `-o StrictHostKeyChecking=yes -o UserKnownHostsFile=${shQuote(hosts)} -o GlobalKnownHostsFile=/dev/null`,
    ].join(' ');
    return await fn({ GIT_SSH_COMMAND: ssh, GIT_TERMINAL_PROMPT: '0', SSH_AUTH_SOCK: '' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** git's generic trailer after an ssh failure: not the reason, so dropped. */
const generic =
  /^(fatal: Could not read from remote repository\.?|Please make sure you have the correct access rights|and the repository exists\.?)$/;

/** The informative line(s) of a failed git-over-ssh command ("Permission denied (publickey).", …). */
export function sshFailureReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const specific = lines.filter((l) => !generic.test(l) && !l.startsWith('Warning: Permanently added'));
  return (specific.length > 0 ? specific : lines).slice(-2).join(' | ');
}

/** The outcome of proving read access with a deploy key. */
export type AccessResult = { ok: true; head?: string } | { ok: false; reason: string };

/**
 * `git ls-remote <url> refs/heads/<branch>` with the deploy key: proves the key can read the repo. Never
 * throws for an auth failure; returns the reason (the last lines of git's stderr).
 */
export async function lsRemoteWithKey(
  exec: Exec,
  url: string,
  branch: string,
  privateKey: string,
  knownHosts: string,
): Promise<AccessResult> {
  return withDeployKey(privateKey, knownHosts, async (env) => {
    const r = await exec.run('git', ['ls-remote', url, `refs/heads/${branch}`], {
      env,
      timeoutMs: 60_000,
      okExitCodes: [1, 2, 128, 255],
    });
    if (r.exitCode !== 0) {
      return { ok: false, reason: sshFailureReason(r.stderr) || `exit ${r.exitCode}` };
    }
    const head = r.stdout.split('\t')[0]?.trim();
    return { ok: true, head: head || undefined };
  });
}

/**
 * Prepares a working copy of `branch` in `dir` with the operator's credentials: a shallow fetch of the
 * branch, or an empty orphan branch when the remote does not have it yet. Returns the fetched commit.
 */
export async function checkoutBranch(
  exec: Exec,
  url: string,
  branch: string,
  dir: string,
): Promise<string | undefined> {
  await git(exec, ['init', '-q', dir]);
  await git(exec, ['remote', 'add', 'origin', url], { cwd: dir });
  const fetched = await git(exec, ['fetch', '-q', '--depth=1', 'origin', `refs/heads/${branch}`], {
    cwd: dir,
    okExitCodes: [128],
  });
  if (fetched.exitCode !== 0) {
    if (!/couldn't find remote ref|not our ref|no such ref/i.test(fetched.stderr)) {
      throw new PlatctlError(
        'TOOL_FAILED',
        `cannot fetch ${url} (${branch}) with your git credentials: ${sshFailureReason(fetched.stderr)}`,
        {
          hint: 'platctl pushes to the fleet repo as you (ssh agent, ~/.ssh/config or GIT_SSH_COMMAND): check `git ls-remote <url>` works',
        },
      );
    }
    await git(exec, ['checkout', '-q', '--orphan', branch], { cwd: dir });
    return undefined;
  }
  await git(exec, ['checkout', '-q', '-B', branch, 'FETCH_HEAD'], { cwd: dir });
  return (await git(exec, ['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
}

/** True when git said the push lost a race (someone pushed first). */
export function isNonFastForward(stderr: string): boolean {
  return /non-fast-forward|fetch first|\[rejected\]|stale info|failed to update ref|cannot lock ref/i.test(stderr);
}
