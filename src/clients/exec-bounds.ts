/**
 * Bounds on external tools: an overall limit per tool (from `timeouts`), ssh's ConnectTimeout for git over ssh,
 * a progress line while a command waits, and the TIMEOUT error naming the endpoint when the limit expires.
 */
import { execFileSync } from 'node:child_process';
import type { Timeouts } from './timeouts.js';
import type { Expiry } from './waiting.js';

/** The overall limit for one run of `file` when the caller gives none. */
export function defaultLimitMs(file: string, t: Timeouts): number {
  const tool = file.split('/').pop() ?? file;
  if (tool === 'git' || tool === 'ssh' || tool === 'ssh-keyscan') return t.gitMs;
  if (tool === 'helm') return t.helmMs;
  if (tool === 'tofu' || tool === 'terraform') return t.terraformMs;
  return 10 * 60_000;
}

/** How long a tool gets to stop after SIGTERM before SIGKILL: terraform saves its state and lock first. */
export function killGraceMs(file: string): number {
  const tool = file.split('/').pop() ?? file;
  return tool === 'tofu' || tool === 'terraform' ? 120_000 : 5_000;
}

/** The remote a command talks to, when an argument names one (ssh/https URL, scp-like `user@host:path`). */
export function remoteOf(args: readonly string[]): string | undefined {
  return args.find((a) => /^(ssh|https?|git):\/\//.test(a) || /^[\w.-]+@[\w.-]+:/.test(a));
}

/** "git ls-remote ssh://git@host/fleet.git", "helm upgrade", "tofu apply": what waits. */
export function waitLabel(file: string, args: readonly string[]): string {
  const tool = file.split('/').pop() ?? file;
  const remote = remoteOf(args);
  return [tool, args[0], remote].filter(Boolean).join(' ');
}

/** What to check when a tool does not finish in time. */
export function expiryOf(file: string, args: readonly string[]): Expiry {
  const tool = file.split('/').pop() ?? file;
  const remote = remoteOf(args);
  const what = `${tool} ${args[0] ?? ''}`.trim();
  if (tool === 'git' || tool === 'ssh' || tool === 'ssh-keyscan')
    return {
      what,
      endpoint: remote ?? args[args.length - 1] ?? 'the git host',
      hint: 'check that the git host answers ssh (a VPN or proxy, its status page, `ssh -vT <host>`); raise timeouts.git or timeouts.sshConnect in platform.yaml for a slow host',
    };
  if (tool === 'helm')
    return {
      what,
      endpoint: 'the cluster API or chart repository',
      hint: 'check the Kubernetes API and the chart source are reachable; raise timeouts.helm in platform.yaml',
    };
  if (tool === 'tofu' || tool === 'terraform')
    return {
      what,
      endpoint: 'the AWS APIs or the state backend',
      hint: `check the network path to AWS and the backend; ${tool} was stopped gracefully (its state saved); if a state lock is left, \`${tool} force-unlock\` it; raise timeouts.terraform in platform.yaml`,
    };
  return { what, endpoint: remote ?? tool, hint: 'check what it talks to' };
}

const SSH_OPTIONS = (t: Timeouts) =>
  `-o ConnectTimeout=${Math.max(1, Math.round(t.sshConnectMs / 1000))} -o ServerAliveInterval=15 -o ServerAliveCountMax=4`;

let configuredSshCommand: string | null | undefined;
/** git's core.sshCommand from the user's config (read once); null when unset. */
function coreSshCommand(): string | null {
  if (configuredSshCommand !== undefined) return configuredSshCommand;
  try {
    configuredSshCommand = execFileSync('git', ['config', '--get', 'core.sshCommand'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    }).trim();
  } catch {
    configuredSshCommand = null;
  }
  return configuredSshCommand || null;
}

/**
 * The GIT_SSH_COMMAND that adds ssh's ConnectTimeout and keep-alives to whatever ssh command git would use
 * (the caller's, GIT_SSH_COMMAND, core.sshCommand, else plain ssh). A command that is not ssh itself (a
 * wrapper script) is left alone: the overall limit still bounds it.
 */
export function gitSshEnv(
  env: Record<string, string | undefined> | undefined,
  t: Timeouts,
): Record<string, string> | undefined {
  if (env?.GIT_SSH ?? process.env.GIT_SSH) return undefined;
  const base = env?.GIT_SSH_COMMAND ?? process.env.GIT_SSH_COMMAND ?? coreSshCommand() ?? 'ssh';
  if (!/^\s*(\S*\/)?ssh(\s|$)/.test(base)) return undefined;
  return { GIT_SSH_COMMAND: `${base.trim()} ${SSH_OPTIONS(t)}` };
}

/** git's generic trailer after an ssh failure: never the reason. */
const GIT_TRAILER =
  /^(fatal: Could not read from remote repository\.?|Please make sure you have the correct access rights|and the repository exists\.?)$/;

/** stderr's lines without blanks and git's generic trailer (the reason is above it). */
export function informativeLines(stderr: string): string[] {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const specific = lines.filter((l) => !GIT_TRAILER.test(l));
  return specific.length > 0 ? specific : lines;
}

/** True when ssh (under git or alone) stopped because the host did not answer in time. */
export function sshTimedOut(file: string, stderr: string): boolean {
  const tool = file.split('/').pop() ?? file;
  if (tool !== 'git' && tool !== 'ssh') return false;
  return /Connection timed out during banner exchange|Connection to \S+ port \d+ timed out|connect to host \S+ port \d+: (Connection|Operation) timed out|Timeout, server \S+ not responding/.test(
    stderr,
  );
}
