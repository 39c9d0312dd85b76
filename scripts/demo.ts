/**
 * `npm run demo`: the README's main command. Starts the lab (building what is missing), makes the demo's PGP
 * keys, runs `platctl bootstrap demo` on examples/lab/platform.yaml through every step, adds two tenants,
 * and prints `platctl status demo` and what to try next. Everything platctl does here is real; what the lab
 * cannot run (pods, the git host's admin) is played by scripts/demo-player.ts, which says so as it goes.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { labProcessEnv, labUp, resetBao } from '../test/lab/lab.js';
import { makeKey } from '../test/vault/helpers/pgp-keys.js';
import { startPlayer } from './demo-player.js';

const root = path.resolve(import.meta.dirname, '..');
const config = 'examples/lab/platform.yaml';
const say = (msg: string) => process.stderr.write(`\n◎ ${msg}\n`);

/** The Vault key holders of the demo: 3 share holders and the root token holder. Private keys stay in .lab. */
async function demoKeys(labDir: string): Promise<void> {
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

/** The lab's OpenBao is reset when it was initialised by someone else (a test) and this demo holds no output. */
async function freshVaultIfNeeded(vaultAddr: string, home: string): Promise<void> {
  const init = (await (await fetch(`${vaultAddr}/v1/sys/init`)).json()) as { initialized: boolean };
  if (init.initialized && !existsSync(path.join(home, 'demo', 'vault-init.json'))) {
    say('the lab OpenBao was initialised by an earlier test run: resetting it for the demo');
    await resetBao();
  }
}

const platctl = (args: string[], env: NodeJS.ProcessEnv) =>
  execa(process.execPath, [path.join(root, 'bin', 'platctl'), ...args], { cwd: root, env, stdio: 'inherit', reject: false });

say('starting the lab (the first run builds kube-apiserver, etcd, tofu and helm: about 15–25 minutes)');
const lab = await labUp((m) => process.stderr.write(`  ${m}\n`));
const env = { ...process.env, ...labProcessEnv(lab) };
Object.assign(process.env, env);
await demoKeys(lab.labDir);
await freshVaultIfNeeded(lab.vaultAddr, env.PLATCTL_HOME ?? path.join(process.env.HOME ?? '', '.platctl'));

const stop = await startPlayer(lab, say);
let code = 0;
try {
  say(`platctl bootstrap demo --config ${config} --yes`);
  const boot = await platctl(['bootstrap', 'demo', '--config', config, '--yes'], env);
  code = boot.exitCode ?? 1;
  if (code === 0) {
    for (const tenant of ['team-a', 'team-b']) {
      say(`platctl add-tenant demo ${tenant} --apply`);
      const t = await platctl(['add-tenant', 'demo', tenant, '--config', config, '--host', `${tenant}.demo.example`, '--apply', '--yes'], env);
      if (t.exitCode !== 0) code = t.exitCode ?? 1;
    }
  }
} finally {
  stop();
}
say(`platctl status demo --config ${config}`);
await platctl(['status', 'demo', '--config', config], env);
process.stdout.write(`
Next, try (after: source .lab/env):
  ./bin/platctl bootstrap demo --config ${config}          # a re-run: every step up to date
  ./bin/platctl istio upgrade demo --config ${config} --version 1.30.4 --yes            # canary revision
  ./bin/platctl istio upgrade demo --config ${config} --version 1.30.4 --tag prod-stable --yes
  ./bin/platctl teardown demo --config ${config} --yes     # everything, in reverse order
  npm run lab -- down                                       # stop the lab and remove its data
The Vault init output (PGP-encrypted) is in ~/.platctl/demo/vault-init.json; the key holders' private keys are
in ${path.join(lab.labDir, 'demo', 'pgp')}.
`);
process.exit(code);
