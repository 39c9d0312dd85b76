/**
 * `npx tsx scripts/bench-tenants.ts [runs] [tenants]`: only the bench's tenant fields (`tenants_100_ms`,
 * `tenants_100_ready_ms`, `state_bytes_after_100_tenants`), on the running lab (started if down), without the full
 * bench's fresh lab and first bootstrap. A first bootstrap finishes the bench's demo cluster if it is not finished
 * yet; then `runs` (default 1) batches of `tenants` (default 100) are added and removed again, as the bench does.
 * Prints one JSON line per run and one with the medians, with the machine's load average; nothing asserted.
 * With PLATCTL_BENCH_PROFILE=1 the add's own log lines (with their times) and the count of Ready sources and
 * Kustomizations go to stderr. PLATCTL_BENCH_CONCURRENT=<n> measures with `flux.concurrent: n` instead of the
 * demo's (a copy of the demo's platform file beside it, removed afterwards; the bootstrap rolls the controllers).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labPaths } from '../test/lab/config.js';
import { median, tracedBootstrap } from './bench-parts.js';
import { addManyTenants } from './bench-tenant-batch.js';
import { demoConfig, prepareLab, root } from './demo-lib.js';
import { startPlayer } from './demo-player.js';

const runs = Number(process.argv[2] ?? 1);
const n = Number(process.argv[3] ?? 100);
const say = (m: string) => process.stderr.write(`◎ ${m}\n`);
const load = () => os.loadavg().map((l) => Number(l.toFixed(2)));
process.env.PLATCTL_HOME = path.join(labPaths().dir, 'bench', 'home');
const concurrent = process.env.PLATCTL_BENCH_CONCURRENT;
let config = demoConfig;
if (concurrent) {
  // Beside the demo's file: its relative paths (the Terraform module, the fixtures) stay valid.
  config = path.join(path.dirname(demoConfig), '.bench-platform.yaml');
  const text = readFileSync(path.join(root, demoConfig), 'utf8');
  if (!/\n {4}flux:\n/.test(text)) throw new Error(`no flux: section in ${demoConfig}`);
  writeFileSync(
    path.join(root, config),
    text.replace(/\n {4}flux:\n/, `\n    flux:\n      concurrent: ${Number(concurrent)}\n`),
  );
}
const { lab, env } = await prepareLab(say, () => {});
const stop = await startPlayer(lab, () => {});
try {
  say('a bootstrap of the demo cluster first (finishes it if needed)');
  const first = await tracedBootstrap(env, [], config);
  if (first.exitCode !== 0) throw new Error(`bootstrap failed:\n${first.stdout}`);
  const add: number[] = [];
  const ready: number[] = [];
  let stateBytes = 0;
  for (let i = 0; i < runs; i++) {
    say(`adding ${n} tenants (run ${i + 1}/${runs}), until the real kustomize-controller has all of them Ready`);
    const before = load();
    const r = await addManyTenants(lab, n, { profile: process.env.PLATCTL_BENCH_PROFILE === '1', config });
    add.push(r.ms);
    ready.push(r.readyMs);
    stateBytes = r.stateBytes;
    const line = {
      run: i + 1,
      tenants_ms: Math.round(r.ms),
      tenants_ready_ms: Math.round(r.readyMs),
      cpu_s_add: r.cpu.add,
      cpu_s_ready: r.cpu.ready,
    };
    process.stdout.write(`${JSON.stringify({ ...line, loadavg_before: before, loadavg_after: load() })}\n`);
  }
  const result = {
    tenants_100_ms: Math.round(median(add)),
    tenants_100_ready_ms: Math.round(median(ready)),
    state_bytes_after_100_tenants: stateBytes,
    tenants: n,
    runs,
    ...(concurrent ? { flux_concurrent: Number(concurrent) } : {}),
    node: process.version,
    loadavg: load(),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  stop();
  if (config !== demoConfig) rmSync(path.join(root, config), { force: true });
}
process.exit(0);
