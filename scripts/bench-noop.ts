/**
 * `npx tsx scripts/bench-noop.ts [runs]`: only the bench's no-op re-run, on the running lab (started if down),
 * without the full bench's fresh lab and first bootstrap. The first run finishes the bench's demo cluster if it
 * is not finished yet; then `runs` (default 7) traced re-runs alternate Node's compile cache on and off
 * (NODE_DISABLE_COMPILE_CACHE=1) and the preflight memo kept and removed (every tool probed and every PGP key
 * read again), so every median sees the same machine load. Prints one JSON line with the bench's field names;
 * numbers only, nothing asserted.
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labPaths } from '../test/lab/config.js';
import { median, tracedBootstrap, waitFluxSettled } from './bench-parts.js';
import { prepareLab } from './demo-lib.js';
import { startPlayer } from './demo-player.js';

const runs = Number(process.argv[2] ?? 7);
const say = (m: string) => process.stderr.write(`◎ ${m}\n`);
const home = path.join(labPaths().dir, 'bench', 'home');
process.env.PLATCTL_HOME = home;
const { lab, env } = await prepareLab(say, () => {});
const stop = await startPlayer(lab, () => {});
try {
  say('a bootstrap of the demo cluster first (finishes it if needed, and fills the compile cache)');
  const first = await tracedBootstrap(env);
  if (first.exitCode !== 0) throw new Error(`bootstrap failed:\n${first.stdout}`);
  await waitFluxSettled(lab);
  const on: Awaited<ReturnType<typeof tracedBootstrap>>[] = [];
  const off: number[] = [];
  const noMemo: number[] = [];
  const memo = path.join(home, 'preflight-memo.json');
  for (let i = 0; i < runs; i++) {
    say(`no-op re-run ${i + 1}/${runs}: as is, compile cache off, preflight memo removed`);
    on.push(await tracedBootstrap(env));
    off.push((await tracedBootstrap({ ...env, NODE_DISABLE_COMPILE_CACHE: '1' })).ms);
    rmSync(memo, { force: true });
    noMemo.push((await tracedBootstrap(env)).ms);
  }
  const mid = [...on].sort((a, b) => a.ms - b.ms)[Math.floor(on.length / 2)]!;
  const result = {
    noop_rerun_ms: Math.round(mid.ms),
    noop_rerun_requests: mid.requests,
    noop_rerun_writes: mid.writes,
    noop_rerun_ms_no_compile_cache: Math.round(median(off)),
    noop_rerun_ms_no_preflight_memo: Math.round(median(noMemo)),
    runs,
    node: process.version,
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  stop();
}
process.exit(0);
