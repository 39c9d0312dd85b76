/** What `npm run demo` and `npm run bench` share: a running lab, the demo's key holders, a usable OpenBao. */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { connectKube } from '../src/clients/kube.js';
import { makeKey } from '../test/helpers/pgp-keys.js';
import { type LabEnv, labProcessEnv, labUp, resetBao } from '../test/lab/lab.js';

/** The repository root. */
export const root = path.resolve(import.meta.dirname, '..');
/** The lab's platform file. */
export const demoConfig = 'examples/lab/platform.yaml';

/** The Vault key holders of the demo: 3 share holders and the root token holder. Private keys stay in .lab. */
async function demoKeys(labDir: string, say: (m: string) => void): Promise<void> {
  const dir = path.join(labDir, 'demo', 'pgp');
  if (existsSync(path.join(dir, 'root.asc'))) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const name of ['share-0', 'share-1', 'share-2', 'root']) {
    const key = await makeKey(dir, name);
    const secret = path.join(dir, `${name}.private.asc`);
    await writeFile(secret, key.privateArmored, { mode: 0o600 });
    await chmod(secret, 0o600);
  }
  say(`made the demo's PGP key holders in ${dir} (public .asc for Vault, private keys 0600 for you)`);
}

/** The lab's OpenBao is reset when something else (a test) initialised it and this demo holds no output. */
async function freshVaultIfNeeded(vaultAddr: string, home: string, say: (m: string) => void): Promise<void> {
  const init = (await (await fetch(`${vaultAddr}/v1/sys/init`)).json()) as { initialized: boolean };
  if (init.initialized && !existsSync(path.join(home, 'demo', 'vault-init.json'))) {
    say('the lab OpenBao was initialised by an earlier test run: resetting it for the demo');
    await resetBao();
  }
}

/**
 * A demo journal pointing at a lab whose data was wiped since (`npm run lab -- down`, or `npm test`'s
 * teardown) would stop platctl with STATE_ELSEWHERE, as it should for a real cluster. The lab's cluster is
 * disposable, so its local files are moved aside instead, and the demo starts afresh.
 */
async function staleDemoAside(lab: LabEnv, home: string, say: (m: string) => void): Promise<void> {
  const dir = path.join(home, 'demo');
  const journal = path.join(dir, 'state.json');
  if (!existsSync(journal)) return;
  const { location } = JSON.parse(await readFile(journal, 'utf8')) as { location?: string };
  if (location !== 'cluster') return;
  const kube = await connectKube({ kubeconfig: lab.kubeconfig });
  if (await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'platctl-system', name: 'platctl-state' }))
    return;
  const aside = `${dir}.stale-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(dir, aside);
  say(`the lab was wiped since the last demo: its old local files are moved aside to ${aside}`);
}

/** Starts the lab, points this process at it, and prepares what the demo config needs. */
export async function prepareLab(
  say: (m: string) => void,
  progress: (m: string) => void,
): Promise<{ lab: LabEnv; env: NodeJS.ProcessEnv }> {
  const lab = await labUp(progress);
  const env = { ...process.env, ...labProcessEnv(lab) };
  Object.assign(process.env, env);
  await demoKeys(lab.labDir, say);
  const home = env.PLATCTL_HOME ?? path.join(process.env.HOME ?? '', '.platctl');
  await staleDemoAside(lab, home, say);
  await freshVaultIfNeeded(lab.vaultAddr, home, say);
  return { lab, env };
}

/** Runs the built CLI (bin/platctl), the way a user does. */
export function platctl(args: string[], env: NodeJS.ProcessEnv, stdio: 'inherit' | 'pipe' = 'inherit') {
  return execa(process.execPath, [path.join(root, 'bin', 'platctl'), ...args], {
    cwd: root,
    env,
    stdio,
    reject: false,
  });
}

/**
 * A team's own repository content, as the team would push it: one ConfigMap under `teams/<tenant>/` of the lab's
 * git server (the demo's stand-in for the team's repository). Pushed once, with the operator's key.
 */
export async function pushTeamApp(lab: LabEnv, tenant: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'platctl-demo-team-'));
  const env = { ...process.env, GIT_SSH_COMMAND: lab.gitSshCommand };
  const git = (args: string[]) => execa('git', args, { cwd: dir, env });
  try {
    await git(['clone', '-q', '--branch', 'main', lab.fleetUrl, '.']);
    const file = path.join(dir, 'teams', tenant, 'app.yaml');
    if (existsSync(file)) return;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  team: ${tenant}\n`);
    await git(['add', '-A']);
    await git([
      '-c',
      'user.name=team',
      '-c',
      `user.email=${tenant}@lab.invalid`,
      'commit',
      '-q',
      '-m',
      `${tenant}: app`,
    ]);
    await git(['push', '-q', 'origin', 'HEAD:main']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
