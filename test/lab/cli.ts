/**
 * `npm run lab -- <install|up|down|status|env|reset-bao>`: the local lab from a shell.
 */
import { readFileSync } from 'node:fs';
import { labPaths } from './config.js';
import { installAll } from './install.js';
import {
  existingLabDirs,
  LabError,
  type LabStatusRow,
  labDown,
  labStatus,
  labUp,
  resetBao,
  withLabDir,
} from './lab.js';

const USAGE = `usage: npm run lab -- <command>
  install    build/install every lab binary into the cache (starts nothing)
  up         start whatever is not running; writes .lab/env and .lab/kubeconfig
  status     show what runs
  down       stop everything and remove .lab/ (and the test run's .lab-<n>/ beside it)
  env        print .lab/env (eval "$(npm run -s lab -- env)")
  reset-bao  wipe OpenBao's storage and restart it uninitialised`;

function table(rows: LabStatusRow[]): string {
  const cells = [
    ['COMPONENT', 'ADDRESS', 'VERSION', 'PID'],
    ...rows.map((r) => [r.component, r.address, r.version, r.pid ? String(r.pid) : r.service ? 'stopped' : '-']),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((c) => (c[i] ?? '').length)));
  return cells.map((c) => c.map((v, i) => (i < 3 ? v.padEnd(widths[i] ?? 0) : v)).join('  ')).join('\n');
}

const say = (msg: string) => console.error(msg);

async function main(cmd: string | undefined): Promise<number> {
  const t0 = Date.now();
  const took = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  switch (cmd) {
    case 'install': {
      const timings = await installAll(say);
      say(Object.keys(timings).length ? `lab: install done in ${took()}` : 'lab: everything already installed');
      return 0;
    }
    case 'up': {
      const env = await labUp(say);
      console.log(table(labStatus()));
      say(`lab: up in ${took()}; source ${labPaths().envSh} (KUBECONFIG=${env.kubeconfig})`);
      return 0;
    }
    case 'status': {
      const rows = labStatus();
      console.log(table(rows));
      return 0;
    }
    case 'down':
      // The test run's other labs too (PLATCTL_LAB_KEEP=1 leaves them all running).
      for (const dir of existingLabDirs()) await withLabDir(dir, labDown);
      say(`lab: down in ${took()}`);
      return 0;
    case 'env':
      process.stdout.write(readFileSync(labPaths().envSh, 'utf8'));
      return 0;
    case 'reset-bao':
      await resetBao();
      say('lab: openbao restarted uninitialised');
      return 0;
    default:
      say(USAGE);
      return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const errs = err instanceof AggregateError ? err.errors : [err];
    for (const e of errs)
      say(e instanceof LabError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  },
);
