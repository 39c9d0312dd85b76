/**
 * `npm run bench`: measures the speed and scale targets on the lab and prints a table, then one JSON line with
 * fixed field names. Nothing here asserts: the numbers go in docs/performance.md.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_IAM_CONCURRENCY } from '../steps/iam.js';
import { labPaths } from '../test/lab/config.js';
import { labDown } from '../test/lab/lab.js';
import {
  coldStart,
  firstBootstrap,
  iamApplyMs,
  latencyProxy,
  median,
  resumeAfterKill,
  tracedBootstrap,
  waitFluxSettled,
} from './bench-parts.js';
import { addManyTenants } from './bench-tenant-batch.js';
import { webhookToRevision } from './bench-webhook.js';
import { prepareLab } from './demo-lib.js';
import { startPlayer } from './demo-player.js';

const say = (m: string) => process.stderr.write(`◎ ${m}\n`);
// A first bootstrap is measured on a fresh lab: whatever ran before (a demo, tests) is taken down first. The
// bench keeps a home of its own under the lab (its Vault init output stays there).
if (existsSync(labPaths().state)) {
  say('taking the lab down first: the bench measures a first bootstrap on a fresh lab');
  await labDown();
}
process.env.PLATCTL_HOME = path.join(labPaths().dir, 'bench', 'home');
const { lab, env } = await prepareLab(say, () => {});
const stop = await startPlayer(lab, () => {});
const result: Record<string, number> = {};
try {
  say('cold start: platctl --help vs kubectl version --client (11 runs each, interleaved)');
  const cold = await coldStart(11);
  result.cold_start_ms = Math.round(cold.platctl);
  result.kubectl_cold_start_ms = Math.round(cold.kubectl);
  result.cold_start_ratio = Number((cold.platctl / cold.kubectl).toFixed(2));
  result.node_cold_start_ms = Math.round(cold.node);
  result.cold_start_ms_inherited_env = Math.round(cold.inherited);

  say('a first bootstrap of the demo cluster, the real Flux controllers included');
  const first = await firstBootstrap(env);
  result.demo_bootstrap_ms = Math.round(first.ms);
  result.flux_ready_ms = Math.round(first.fluxMs);
  const settled = await waitFluxSettled(lab);
  say(`Flux took over the demo's Helm releases ${Math.round(settled / 1000)} s after the bootstrap`);
  say('no-op re-run (median of 5), the real Flux controllers running');
  const reruns = [];
  for (let i = 0; i < 5; i++) reruns.push(await tracedBootstrap(env));
  const mid = reruns.sort((a, b) => a.ms - b.ms)[2]!;
  result.noop_rerun_ms = Math.round(mid.ms);
  result.noop_rerun_requests = mid.requests;
  result.noop_rerun_writes = mid.writes;
  result.pipeline_steps = (JSON.parse(mid.stdout) as { steps: unknown[] }).steps.length;

  say('kill -9 inside a step, then resume');
  result.resume_reexecuted_steps = await resumeAfterKill(env, lab);

  say('adding 100 tenants (one batch, objects applied), until the real kustomize-controller has all of them Ready');
  const tenants = await addManyTenants(lab, 100);
  result.tenants_100_ms = Math.round(tenants.ms);
  result.tenants_100_ready_ms = Math.round(tenants.readyMs);
  result.state_bytes_after_100_tenants = tenants.stateBytes;

  say('a push to the demo fleet repo on Gitea, through its webhook to the real Receiver, until the source has it');
  const hook = await webhookToRevision(lab);
  result.webhook_to_revision_ms = Math.round(hook.ms);
  result.webhook_push_ms = Math.round(hook.pushMs);

  say(`IAM step: its concurrency (${DEFAULT_IAM_CONCURRENCY}) vs 1 (3 runs each)`);
  const par: number[] = [];
  const ser: number[] = [];
  // 50 ms a request: a typical round trip to a regional AWS endpoint (see latencyProxy).
  const proxy = await latencyProxy(lab.awsEndpoint, 50);
  const endpoint = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = proxy.url;
  try {
    for (let i = 0; i < 3; i++) {
      par.push(await iamApplyMs(lab, DEFAULT_IAM_CONCURRENCY));
      ser.push(await iamApplyMs(lab, 1));
    }
  } finally {
    process.env.AWS_ENDPOINT_URL = endpoint;
    proxy.close();
  }
  result.iam_parallel_ms = Math.round(median(par));
  result.iam_serial_ms = Math.round(median(ser));
  result.iam_parallel_ratio = Number((median(par) / median(ser)).toFixed(2));
} finally {
  stop();
}

const rows: [string, string, string][] = [
  [
    'cold start (platctl --help)',
    `${result.cold_start_ms} ms`,
    `≤ 1.5 × kubectl (${result.kubectl_cold_start_ms} ms): ratio ${result.cold_start_ratio}`,
  ],
  ['bare node start (node -e "")', `${result.node_cold_start_ms} ms`, 'context: the floor under any Node CLI'],
  [
    'platctl --help, inherited env',
    `${result.cold_start_ms_inherited_env} ms`,
    process.env.NODE_EXTRA_CA_CERTS ? 'NODE_EXTRA_CA_CERTS is set here: Node parses it at start' : 'same environment',
  ],
  ['first bootstrap of the demo', `${result.demo_bootstrap_ms} ms`, 'real Flux controllers'],
  ['flux step until Flux is Ready', `${result.flux_ready_ms} ms`, 'install, push, real controllers Ready'],
  ['no-op re-run', `${result.noop_rerun_ms} ms`, '≤ 1000 ms'],
  [
    'no-op re-run requests',
    String(result.noop_rerun_requests),
    `≤ steps + 2 = ${(result.pipeline_steps ?? 0) + 2} (lock not counted)`,
  ],
  ['no-op re-run writes', String(result.noop_rerun_writes), '0 (own Lease and state not counted)'],
  ['steps re-executed after kill -9', String(result.resume_reexecuted_steps), '1'],
  ['100 tenants', `${result.tenants_100_ms} ms`, '≤ 10 000 ms'],
  ['100 tenants Ready (real Flux)', `${result.tenants_100_ready_ms} ms`, '≤ 30 000 ms'],
  [
    'push → revision (webhook)',
    `${result.webhook_to_revision_ms} ms`,
    `well under the 60 000 ms interval (the push alone: ${result.webhook_push_ms} ms)`,
  ],
  ['state after 100 tenants', `${result.state_bytes_after_100_tenants} bytes`, '< 262 144 bytes'],
  [
    'IAM parallel / serial',
    `${result.iam_parallel_ms} / ${result.iam_serial_ms} ms`,
    `ratio ${result.iam_parallel_ratio} (≤ 0.6)`,
  ],
];
process.stdout.write(
  `machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
);
for (const [what, value, target] of rows) process.stdout.write(`${what.padEnd(34)} ${value.padEnd(18)} ${target}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
