/**
 * Test-only steps for the engine's lab tests (loaded by a real platctl process via PLATCTL_TEST_STEPS).
 * They do real work against the lab's kube-apiserver, so state, locks and resume are exercised for real:
 * - `seed` writes a local file (before the cluster "exists");
 * - `connect` has movesStateToCluster, like the real access step;
 * - `slow` sleeps PLATCTL_TEST_SLEEP_MS, then creates ConfigMap default/platctl-test-slow (the step a test kills);
 * - `final` creates ConfigMap default/platctl-test-final.
 * PLATCTL_TEST_FAIL=<id> makes that ConfigMap step's apply fail (for `status`).
 * Every apply appends "<id>" to $PLATCTL_TEST_DIR/applied.log, so tests can count re-executions.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Step, StepContext } from '../../src/step.js';

const dir = () => process.env.PLATCTL_TEST_DIR ?? os.tmpdir();
const applied = (id: string) => appendFileSync(path.join(dir(), 'applied.log'), `${id}\n`);

function configMapStep(id: string, name: string, sleepMs: () => number): Step {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name };
  return {
    id,
    title: `test step ${id}`,
    inputs: () => ({ name }),
    async check(ctx: StepContext) {
      const cm = await (await ctx.kube()).get(ref);
      return cm ? { status: 'up-to-date', detail: `${name} exists` } : { status: 'absent', detail: `create ${name}` };
    },
    async apply(ctx: StepContext) {
      applied(id);
      if (process.env.PLATCTL_TEST_FAIL === id) throw new Error(`${id} failed on purpose`);
      const ms = sleepMs();
      if (ms > 0) {
        ctx.progress(`sleeping ${ms} ms`);
        await sleep(ms);
      }
      await (await ctx.kube()).create({ ...ref, metadata: { name, namespace: 'default' }, data: { by: 'test' } });
      return { configMap: name };
    },
    async destroy(ctx: StepContext) {
      await (await ctx.kube()).delete(ref);
    },
  };
}

/** The test pipeline. */
export const steps: Step[] = [
  {
    id: 'seed',
    title: 'test step seed',
    inputs: () => ({}),
    async check() {
      return existsSync(path.join(dir(), 'seed'))
        ? { status: 'up-to-date', detail: 'seed file exists' }
        : { status: 'absent', detail: 'write seed file' };
    },
    async apply() {
      applied('seed');
      writeFileSync(path.join(dir(), 'seed'), 'seed');
      return { seeded: true };
    },
    async destroy() {},
  },
  {
    id: 'connect',
    title: 'test step connect',
    movesStateToCluster: true,
    inputs: () => ({}),
    async check(ctx) {
      return ctx.outputs('connect').server
        ? { status: 'up-to-date', detail: 'connected' }
        : { status: 'absent', detail: 'connect' };
    },
    async apply(ctx) {
      applied('connect');
      const kube = await ctx.kube();
      await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });
      return { server: kube.server };
    },
    async destroy() {},
  },
  configMapStep('slow', 'platctl-test-slow', () => Number(process.env.PLATCTL_TEST_SLEEP_MS ?? 0)),
  configMapStep('final', 'platctl-test-final', () => 0),
];
