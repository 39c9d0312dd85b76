/**
 * `npm run demo`: the README's main command. Starts the lab (building what is missing), makes the demo's PGP
 * keys, runs `platctl bootstrap demo` on examples/lab/platform.yaml through every step, adds two tenants,
 * and prints `platctl status demo` and what to try next. Everything platctl does here is real, the git host too
 * (the lab's Gitea: platctl makes the fleet repo and its deploy key through the API), and so is Flux (the lab
 * runs its controllers). The tenants' repositories are folders of the lab's sshd git server, whose admin (adding
 * their deploy keys) scripts/demo-player.ts plays, saying so as it goes. Pods are scheduled onto the lab's kwok
 * nodes and reach Running after a few seconds.
 */
import path from 'node:path';
import { demoConfig as config, platctl, prepareLab, pushTeamApp } from './demo-lib.js';
import { startPlayer } from './demo-player.js';

const say = (msg: string) => process.stderr.write(`\n◎ ${msg}\n`);

say(
  'starting the lab (the first run builds kube-apiserver, kube-scheduler, etcd, kwok, tofu, helm and more: see docs/lab.md)',
);
const { lab, env } = await prepareLab(say, (m) => process.stderr.write(`  ${m}\n`));
const stop = await startPlayer(lab, say);
let code = 0;
try {
  say(`platctl bootstrap demo --config ${config} --yes`);
  code = (await platctl(['bootstrap', 'demo', '--config', config, '--yes'], env)).exitCode ?? 1;
  for (const tenant of code === 0 ? ['team-a', 'team-b'] : []) {
    // The tenant's own source: a folder of the lab's sshd git server (a real team brings its own repository).
    await pushTeamApp(lab, tenant);
    const args = [
      'add-tenant',
      'demo',
      tenant,
      '--config',
      config,
      '--repo',
      lab.fleetUrl,
      '--path',
      `./teams/${tenant}`,
    ];
    args.push('--apply', '--yes');
    say(`platctl ${args.join(' ')}`);
    const t = await platctl(args, env);
    if (t.exitCode !== 0) code = t.exitCode ?? 1;
  }
} finally {
  stop();
}
say(`platctl status demo --config ${config}`);
await platctl(['status', 'demo', '--config', config], env);
process.stdout.write(`
Next, try (after: source .lab/env):
  npx platctl bootstrap demo --config ${config}            # a re-run: every step up to date
  npx platctl istio upgrade demo --config ${config} --version 1.30.4 --yes            # canary revision
  npx platctl istio upgrade demo --config ${config} --version 1.30.4 --tag prod-stable --yes
  npx platctl teardown demo --config ${config} --yes       # everything, in reverse order
  npm run lab -- down                                       # stop the lab and remove its data
The Vault init output (PGP-encrypted) is in ~/.platctl/demo/vault-init.json; the key holders' private keys are
in ${path.join(lab.labDir, 'demo', 'pgp')}.
`);
process.exit(code);
