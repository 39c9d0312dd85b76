/**
 * A real Gitea (v1.26.0, built from its Go module with cgo and SQLite) on loopback: HTTP API on one port, its
 * built-in SSH server on another, data under `.lab/gitea`. It runs as root (`RUN_USER = root` and
 * `I_AM_BEING_UNSAFE_RUNNING_AS_ROOT`), ssh URLs use the user `git` (`BUILTIN_SSH_SERVER_USER`), webhooks may
 * only be delivered to loopback (`ALLOWED_HOST_LIST = loopback`), and nothing that phones out is on (update
 * checker and mail off; Gravatar is off by default in v1.26). At `up` an admin user (random password, never kept) and an API token are made once
 * with Gitea's CLI and kept in `.lab/gitea/admin.json` (0600); the operator's key is the admin's ssh key, so
 * the operator can push.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { labPaths, logFile, VERSIONS } from './config.js';
import type { BinPaths } from './install.js';
import { HOST, type Ports } from './ports.js';
import { LabError, runLogged } from './proc.js';
import { httpStatus, type ServiceSpec } from './service.js';

/** The lab admin's name: owner of the fleet repositories the tests and the demo make. */
export const GITEA_ADMIN = 'platctl-admin';

/** Paths of the Gitea side of the lab. */
export function giteaPaths(p = labPaths()) {
  const dir = join(p.dir, 'gitea');
  return {
    dir,
    config: join(dir, 'app.ini'),
    data: join(dir, 'data'),
    repos: join(dir, 'repos'),
    hostKey: join(dir, 'ssh_host_ed25519_key'),
    admin: join(dir, 'admin.json'),
  };
}

/** The lab admin and its API token. Secret: never logged, kept 0600. */
export interface GiteaAdmin {
  username: string;
  token: string;
}

/** Gitea's HTTP base URL. */
export const giteaUrl = (ports: Ports) => `http://${HOST}:${ports.giteaHttp}`;

/** The ssh URL of a repository on the lab's Gitea. */
export const giteaRepoUrl = (ports: Ports, owner: string, name: string) =>
  `ssh://git@${HOST}:${ports.giteaSsh}/${owner}/${name}.git`;

/** Secrets of the instance, made once (a change would invalidate sessions and tokens). */
async function instanceSecrets(dir: string): Promise<{ secretKey: string; internalToken: string }> {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8'));
  const s = { secretKey: randomBytes(32).toString('hex'), internalToken: randomBytes(48).toString('base64url') };
  await writeFile(file, JSON.stringify(s), { mode: 0o600 });
  return s;
}

function appIni(
  bins: BinPaths,
  ports: Ports,
  g: ReturnType<typeof giteaPaths>,
  s: { secretKey: string; internalToken: string },
) {
  return `APP_NAME = platctl lab
RUN_USER = root
RUN_MODE = prod
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true
WORK_PATH = ${g.dir}

[server]
PROTOCOL = http
HTTP_ADDR = ${HOST}
HTTP_PORT = ${ports.giteaHttp}
ROOT_URL = ${giteaUrl(ports)}/
DOMAIN = ${HOST}
SSH_DOMAIN = ${HOST}
START_SSH_SERVER = true
SSH_LISTEN_HOST = ${HOST}
SSH_PORT = ${ports.giteaSsh}
SSH_LISTEN_PORT = ${ports.giteaSsh}
BUILTIN_SSH_SERVER_USER = git
SSH_SERVER_HOST_KEYS = ${g.hostKey}
STATIC_ROOT_PATH = ${bins.giteaStatic}
APP_DATA_PATH = ${g.data}
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = ${join(g.data, 'gitea.db')}
SQLITE_JOURNAL_MODE = WAL

[repository]
ROOT = ${g.repos}
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = ${s.secretKey}
INTERNAL_TOKEN = ${s.internalToken}
PASSWORD_HASH_ALGO = pbkdf2

[oauth2]
ENABLED = false

[service]
DISABLE_REGISTRATION = true
REQUIRE_SIGNIN_VIEW = true

[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 5

[mailer]
ENABLED = false

[cron.update_checker]
ENABLED = false

[packages]
ENABLED = false

[actions]
ENABLED = false

[indexer]
REPO_INDEXER_ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[log]
MODE = console
LEVEL = Info
`;
}

/** Writes the config and the ssh host key; returns the service. */
export async function giteaSpec(bins: BinPaths, ports: Ports): Promise<ServiceSpec> {
  const g = giteaPaths();
  await mkdir(g.dir, { recursive: true, mode: 0o700 });
  await Promise.all([g.data, g.repos].map((d) => mkdir(d, { recursive: true })));
  if (!existsSync(g.hostKey)) {
    await runLogged('gitea', 'ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'platctl-lab-gitea',
      '-f',
      g.hostKey,
    ]);
  }
  const config = appIni(bins, ports, g, await instanceSecrets(g.dir));
  await writeFile(g.config, config, { mode: 0o600 });
  const url = giteaUrl(ports);
  return {
    name: 'gitea',
    version: VERSIONS.gitea,
    address: `${url} ssh://${HOST}:${ports.giteaSsh}`,
    cmd: bins.gitea,
    args: ['web', '--config', g.config, '--work-path', g.dir],
    env: { GITEA_WORK_DIR: g.dir, HOME: g.dir },
    fingerprint: config,
    ready: async () => (await httpStatus(`${url}/api/healthz`)) === 200,
    timeoutMs: 90_000,
  };
}

/** known_hosts lines for Gitea's ssh server. */
export async function giteaKnownHosts(ports: Ports): Promise<string[]> {
  const pub = (await readFile(`${giteaPaths().hostKey}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
  return [`[${HOST}]:${ports.giteaSsh} ${pub}`, `[localhost]:${ports.giteaSsh} ${pub}`];
}

/** One call to the lab Gitea's API as the admin (or with basic auth); throws on an unexpected status. */
export async function giteaCall<T>(
  base: string,
  auth: { token: string } | { username: string; password: string },
  method: string,
  path: string,
  body?: unknown,
  ok: number[] = [200, 201, 204],
): Promise<{ status: number; body: T }> {
  const authorization =
    'token' in auth
      ? `token ${auth.token}`
      : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization, accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (!ok.includes(res.status))
    throw new Error(`lab gitea: ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * The admin and its token, made once per lab (`gitea admin user create`, `generate-access-token`); the
 * operator's public key is added as the admin's ssh key. Idempotent.
 */
export async function ensureGiteaAdmin(bins: BinPaths, ports: Ports, operatorPub: string): Promise<GiteaAdmin> {
  const g = giteaPaths();
  const base = giteaUrl(ports);
  let admin: GiteaAdmin | undefined = existsSync(g.admin) ? JSON.parse(await readFile(g.admin, 'utf8')) : undefined;
  if (admin) {
    const still = await giteaCall(base, { token: admin.token }, 'GET', '/user', undefined, [200, 401]);
    if (still.status !== 200) admin = undefined;
  }
  if (!admin) {
    // The CLI prints the password and the token on stdout: run it without logging stdout.
    const cli = ['--config', g.config, '--work-path', g.dir];
    const gitea = async (args: string[]) => {
      const r = await execa(bins.gitea, [...cli, ...args], {
        env: { GITEA_WORK_DIR: g.dir, HOME: g.dir },
        reject: false,
      });
      await appendFile(
        logFile('gitea'),
        `\n$ gitea ${args.slice(0, 3).join(' ')} … (exit ${r.exitCode})\n${r.stderr}\n`,
      );
      if (r.exitCode !== 0) {
        throw new LabError(
          'gitea',
          `gitea ${args.slice(0, 3).join(' ')}`,
          logFile('gitea'),
          `exit ${r.exitCode}`,
          r.stderr,
        );
      }
      return r.stdout.trim();
    };
    await gitea([
      'admin',
      'user',
      'create',
      '--admin',
      '--username',
      GITEA_ADMIN,
      '--email',
      'admin@lab.invalid',
      '--random-password',
      '--must-change-password=false',
    ]);
    const token = await gitea([
      'admin',
      'user',
      'generate-access-token',
      '--username',
      GITEA_ADMIN,
      '--token-name',
      `lab-${Date.now()}`,
      '--scopes',
      'all',
      '--raw',
    ]);
    // `--raw` prints the token alone; take the last 40-hex word in case a log line precedes it.
    const raw = token.match(/[0-9a-f]{40}/g)?.pop();
    if (!raw)
      throw new LabError('gitea', 'gitea admin user generate-access-token', logFile('gitea'), 'no token printed');
    admin = { username: GITEA_ADMIN, token: raw };
    await writeFile(g.admin, JSON.stringify(admin), { mode: 0o600 });
    await chmod(g.admin, 0o600);
  }
  const auth = { token: admin.token };
  const keys = await giteaCall<{ key: string }[]>(base, auth, 'GET', '/user/keys');
  const id = operatorPub.trim().split(/\s+/).slice(0, 2).join(' ');
  if (!keys.body.some((k) => k.key.startsWith(id))) {
    await giteaCall(base, auth, 'POST', '/user/keys', { title: 'lab operator', key: id, read_only: false });
  }
  return admin;
}
