/**
 * Git over ssh: Debian's sshd on a loopback port, with its own host key and config under
 * `.lab/ssh`, serving the bare repositories under `.lab/git`: the fleet repository `fleet.git`, and whatever
 * {@link ensureRepo} makes (the bench's team repositories, `teams/<t>.git`).
 *
 * sshd runs as root and logs users in as root, but only with `PermitRootLogin
 * forced-commands-only`: every authorized key carries `restrict` and a forced command
 * (`.lab/ssh/git-only`) that runs git's transport for repositories under `.lab/git` and
 * nothing else; a read-only key may only fetch (upload-pack/upload-archive).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { labPaths } from './config.js';
import type { BinPaths } from './install.js';
import { HOST, type Ports } from './ports.js';
import { runLogged, shellQuote } from './proc.js';
import { type ServiceSpec, tcpBanner } from './service.js';

/** Paths of the ssh/git side of the lab. */
export function sshPaths(p = labPaths()) {
  return {
    dir: p.ssh,
    hostKey: join(p.ssh, 'host_ed25519_key'),
    operatorKey: join(p.ssh, 'operator'),
    operatorPub: join(p.ssh, 'operator.pub'),
    authorizedKeys: join(p.ssh, 'authorized_keys'),
    knownHosts: join(p.ssh, 'known_hosts'),
    config: join(p.ssh, 'sshd_config'),
    gitOnly: join(p.ssh, 'git-only'),
    gitRoot: p.git,
    fleetRepo: join(p.git, 'fleet.git'),
  };
}

/** The fleet repository's ssh URL. */
export function fleetUrl(ports: Ports): string {
  return `ssh://root@${HOST}:${ports.sshd}/fleet.git`;
}

/** The `GIT_SSH_COMMAND` that uses a key and the lab's known_hosts (never the user's). */
export function gitSshCommand(key: string, knownHosts = sshPaths().knownHosts): string {
  // git runs it through sh: quote paths that need it.
  const q = shellQuote;
  return `ssh -i ${q(key)} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${q(knownHosts)} -o StrictHostKeyChecking=yes`;
}

const keygen = (file: string, comment: string) =>
  runLogged('sshd', 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);

function gitOnlyScript(gitRoot: string): string {
  return `#!/bin/sh
# Forced command of every lab key: git transport only, for repositories under ${gitRoot}.
# "ro" keys may fetch but not push. Written by test/lab/git-ssh.ts.
mode=$1
cmd=$SSH_ORIGINAL_COMMAND
case "$cmd" in
  "git-upload-pack "*|"git-upload-archive "*) ;;
  "git-receive-pack "*)
    if [ "$mode" != rw ]; then echo "platctl lab: read-only key: push refused" >&2; exit 1; fi ;;
  *) echo "platctl lab: only git fetch/push is served here" >&2; exit 1 ;;
esac
verb=\${cmd%% *}
repo=\${cmd#* }; repo=\${repo#\\'}; repo=\${repo%\\'}; repo=\${repo#/}
case "$repo" in ""|*..*|*\\'*|/*) echo "platctl lab: bad repository path" >&2; exit 1 ;; esac
exec git "\${verb#git-}" "${gitRoot}/$repo"
`;
}

function sshdConfig(ports: Ports, s: ReturnType<typeof sshPaths>): string {
  return [
    `Port ${ports.sshd}`,
    `ListenAddress ${HOST}`,
    `HostKey ${s.hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile ${s.authorizedKeys}`,
    'AuthenticationMethods publickey',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitRootLogin forced-commands-only',
    'AllowUsers root',
    // The lab dir's modes are whatever the checkout has; sshd must not refuse keys over them.
    'StrictModes no',
    'AcceptEnv GIT_PROTOCOL',
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PermitTTY no',
    'PrintMotd no',
    'MaxStartups 100',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/**
 * Creates a bare repository under the lab's git root (`rel`, e.g. `teams/a.git`) with one commit on `main` holding
 * `files` (flat: names without slashes), unless it exists. `force` recreates it.
 */
export async function ensureRepo(rel: string, files: Record<string, string>, force = false): Promise<void> {
  const repo = join(sshPaths().gitRoot, rel);
  if (!force && existsSync(join(repo, 'HEAD'))) return;
  await runLogged('sshd', 'rm', ['-rf', repo]);
  await runLogged('sshd', 'git', ['init', '-q', '--bare', '-b', 'main', repo]);
  const env = {
    GIT_DIR: repo,
    GIT_AUTHOR_NAME: 'platctl lab',
    GIT_AUTHOR_EMAIL: 'lab@platctl.invalid',
    GIT_COMMITTER_NAME: 'platctl lab',
    GIT_COMMITTER_EMAIL: 'lab@platctl.invalid',
  };
  const git = (args: string[], input?: string) => runLogged('sshd', 'git', args, { env, input });
  const entries: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const blob = (await git(['hash-object', '-w', '--stdin'], text)).trim();
    entries.push(`100644 blob ${blob}\t${name}\n`);
  }
  const tree = (await git(['mktree'], entries.join(''))).trim();
  const commit = (await git(['commit-tree', tree, '-m', 'Initial commit'])).trim();
  await git(['update-ref', 'refs/heads/main', commit]);
}

/** Creates the fleet repo (bare, one commit on `main`) unless it exists. */
export async function ensureFleetRepo(force = false): Promise<void> {
  await ensureRepo('fleet.git', { 'README.md': '# fleet\n\nGitOps repository of the platctl lab.\n' }, force);
}

/** Recreates the fleet repository: bare, one initial commit on `main`, nothing pushed. */
export async function resetFleetRepo(): Promise<void> {
  await ensureFleetRepo(true);
}

/** Writes keys, config, wrapper, authorized_keys and known_hosts; returns the sshd service. */
export async function sshdSpec(bins: BinPaths, ports: Ports): Promise<ServiceSpec> {
  const s = sshPaths();
  await mkdir(s.dir, { recursive: true, mode: 0o700 });
  // Privilege separation dir Debian's sshd insists on; no system sshd may have made it.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  if (!existsSync(s.hostKey)) await keygen(s.hostKey, 'platctl-lab-host');
  if (!existsSync(s.operatorKey)) await keygen(s.operatorKey, 'platctl-lab-operator');
  await writeFile(s.gitOnly, gitOnlyScript(s.gitRoot));
  await chmod(s.gitOnly, 0o755);
  const config = sshdConfig(ports, s);
  await writeFile(s.config, config);
  if (!existsSync(s.authorizedKeys)) await resetAuthorizedKeys();
  const hostPub = (await readFile(`${s.hostKey}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
  await writeFile(s.knownHosts, `[${HOST}]:${ports.sshd} ${hostPub}\n[localhost]:${ports.sshd} ${hostPub}\n`);
  await ensureFleetRepo();
  return {
    name: 'sshd',
    version: sshdVersion(bins.sshd),
    address: `ssh://${HOST}:${ports.sshd}`,
    cmd: bins.sshd,
    args: ['-D', '-e', '-f', s.config],
    fingerprint: config,
    ready: () => tcpBanner(ports.sshd, 'SSH-2.0'),
  };
}

/** `OpenSSH_9.2` or so: what `sshd -V` says first (it writes to stderr). */
function sshdVersion(sshd: string): string {
  const r = spawnSync(sshd, ['-V'], { encoding: 'utf8' });
  return /OpenSSH_[\w.]+/.exec(`${r.stderr}${r.stdout}`)?.[0] ?? 'unknown';
}

/** `type base64` of a public key line (options and comment dropped): a key's identity. */
function keyId(line: string): string {
  const words = line.trim().split(/\s+/);
  const i = words.findIndex((w) => /^(ssh-|ecdsa-|sk-)/.test(w));
  if (i < 0 || !words[i + 1]) throw new Error(`lab: not an ssh public key line: ${line.slice(0, 60)}`);
  return `${words[i]} ${words[i + 1]}`;
}

async function readAuthorized(): Promise<string[]> {
  const text = await readFile(sshPaths().authorizedKeys, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Written aside, then renamed over: sshd reads the file on every login and must never see half of it. */
async function writeAuthorized(lines: string[]): Promise<void> {
  const file = sshPaths().authorizedKeys;
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  await rename(tmp, file);
}

/** Lets a key in (sshd reads authorized_keys on every login: no restart). Read-only keys may only fetch. */
export async function authorizeKey(publicKeyLine: string, opts: { readOnly?: boolean } = {}): Promise<void> {
  await authorizeKeys([publicKeyLine], opts);
}

/** {@link authorizeKey} for many keys in one rewrite of authorized_keys. */
export async function authorizeKeys(publicKeyLines: readonly string[], opts: { readOnly?: boolean } = {}) {
  const ids = new Set(publicKeyLines.map(keyId));
  const others = (await readAuthorized()).filter((l) => !ids.has(keyId(l)));
  const mode = opts.readOnly ? 'ro' : 'rw';
  await writeAuthorized([
    ...others,
    ...[...ids].map((id) => `restrict,command="${sshPaths().gitOnly} ${mode}" ${id} lab-${mode}`),
  ]);
}

/** Removes a key (given as any line holding it). */
export async function revokeKey(publicKeyLine: string): Promise<void> {
  const id = keyId(publicKeyLine);
  await writeAuthorized((await readAuthorized()).filter((l) => keyId(l) !== id));
}

/** Back to the operator key alone (read-write). */
export async function resetAuthorizedKeys(): Promise<void> {
  await writeAuthorized([]);
  await authorizeKey(await readFile(sshPaths().operatorPub, 'utf8'));
}
