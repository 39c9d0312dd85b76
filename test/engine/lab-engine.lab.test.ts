/**
 * The engine against the lab's real kube-apiserver: state migration into the ConfigMap, a kill -9 of a real
 * platctl process mid-step and its resume, two concurrent runs, a corrupt state ConfigMap, and teardown.
 * Steps are the test-only ones in test/helpers/lab-steps.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectKube, type KubeClient, type KubeObject } from '../../src/clients/kube.js';
import { removeClusterState } from '../../src/runner/session.js';
import { platctl, type Sandbox, sandbox } from '../helpers/platctl.js';
import { lab } from '../lab/env.js';

const stepsModule = path.resolve('test/helpers/lab-steps.ts');
const cmRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'platctl-system', name: 'platctl-state' };
let kube: KubeClient;

async function readState(): Promise<{ steps: Record<string, { status: string }>; cluster: string } | undefined> {
  const cm = await kube.get<KubeObject & { data?: Record<string, string> }>(cmRef);
  return cm?.data?.['state.json'] ? JSON.parse(cm.data['state.json']) : undefined;
}

const appliedLog = (sb: Sandbox) => readFileSync(path.join(sb.dir, 'applied.log'), 'utf8').trim().split('\n');

const leaseRef = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  namespace: 'platctl-system',
  name: 'platctl-lock',
};

/**
 * Between tests: no state, no lock, no test ConfigMaps. The namespace platctl-system may stay (as on a cluster
 * whose state was removed): deleting it costs the namespace controller's 5 s or more each time. The first test
 * starts without it and the last one's teardown removes it; afterAll removes it whatever happened.
 */
async function cleanup(full = false) {
  if (full) await removeClusterState(kube);
  else for (const ref of [cmRef, leaseRef]) await kube.delete(ref);
  for (const name of ['platctl-test-slow', 'platctl-test-final']) {
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name });
  }
}

beforeAll(async () => {
  kube = await connectKube({ kubeconfig: lab().kubeconfig });
  await cleanup(true);
});
afterEach(() => cleanup());
afterAll(() => cleanup(true));

describe('engine on the lab', () => {
  it('bootstraps, moves state into the ConfigMap, and a re-run is up to date', async () => {
    const sb = sandbox(lab(), 'engine');
    const env = { ...sb.env, PLATCTL_TEST_STEPS: stepsModule };
    const first = await platctl(['bootstrap', 'engine', '--config', sb.config, '--yes'], env);
    expect(first.exitCode, first.all).toBe(0);
    const state = await readState();
    expect(state?.cluster).toBe('engine');
    expect(Object.values(state?.steps ?? {}).map((s) => s.status)).toEqual(['done', 'done', 'done', 'done']);
    const journal = JSON.parse(readFileSync(path.join(sb.home, 'engine', 'state.json'), 'utf8'));
    expect(journal.location).toBe('cluster');

    const second = await platctl(['bootstrap', 'engine', '--config', sb.config, '--yes', '--output', 'json'], env);
    expect(second.exitCode, second.all).toBe(0);
    const report = JSON.parse(second.stdout);
    expect(report.steps.map((s: { result: string }) => s.result)).toEqual(Array(4).fill('up-to-date'));
    expect(appliedLog(sb)).toEqual(['seed', 'connect', 'slow', 'final']);
  });

  it('resumes after a kill -9 inside a step, re-executing only that step', async () => {
    const sb = sandbox(lab(), 'engine');
    const env = { ...sb.env, PLATCTL_TEST_STEPS: stepsModule, PLATCTL_TEST_SLEEP_MS: '20000' };
    const run = platctl(['bootstrap', 'engine', '--config', sb.config, '--yes'], env);
    for (let i = 0; i < 200 && (await readState())?.steps.slow?.status !== 'running'; i++) await sleep(100);
    expect((await readState())?.steps.slow?.status).toBe('running');
    run.kill('SIGKILL');
    const killed = await run;
    expect(killed.signal).toBe('SIGKILL');

    const resumed = await platctl(['bootstrap', 'engine', '--config', sb.config, '--yes'], {
      ...env,
      PLATCTL_TEST_SLEEP_MS: '0',
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    // The dead run's Lease is taken over (same host, process gone), with a warning naming it.
    expect(resumed.stderr).toMatch(/taking over the lock held by .*:\d+/);
    expect(appliedLog(sb)).toEqual(['seed', 'connect', 'slow', 'slow', 'final']);
    expect(Object.values((await readState())?.steps ?? {}).every((s) => s.status === 'done')).toBe(true);
  });

  it('lets exactly one of two concurrent runs proceed; the other exits 3 naming the holder', async () => {
    const sb = sandbox(lab(), 'engine');
    const env = { ...sb.env, PLATCTL_TEST_STEPS: stepsModule };
    // The first run holds just after taking its lock until the test writes the release file.
    const release = path.join(sb.dir, 'release');
    const first = platctl(['bootstrap', 'engine', '--config', sb.config, '--yes'], {
      ...env,
      PLATCTL_TEST_PAUSE: `run:locked=${release}`,
    });
    const lockFile = path.join(sb.home, 'engine', 'lock');
    for (let i = 0; i < 600 && !existsSync(lockFile); i++) await sleep(100);
    const second = await platctl(['bootstrap', 'engine', '--config', sb.config, '--yes'], env);
    writeFileSync(release, '');
    expect(second.exitCode).toBe(3);
    expect(second.stderr).toMatch(/locked by \S+@\S+:\d+ \(bootstrap\) for \d+s/);
    const done = await first;
    expect(done.exitCode, done.all).toBe(0);
  });

  it('refuses a corrupt state ConfigMap, names it, and never overwrites it', async () => {
    const sb = sandbox(lab(), 'engine');
    const env = { ...sb.env, PLATCTL_TEST_STEPS: stepsModule };
    expect((await platctl(['bootstrap', 'engine', '--config', sb.config, '--yes'], env)).exitCode).toBe(0);
    const cm = await kube.get<KubeObject & { data: Record<string, string> }>(cmRef);
    await kube.replace({ ...cm!, data: { 'state.json': '{"version": 1, "cluster": "engine", "steps": {' } });
    const before = (await kube.get(cmRef))?.metadata.resourceVersion;
    const run = await platctl(['bootstrap', 'engine', '--config', sb.config, '--yes'], env);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('ConfigMap platctl-system/platctl-state');
    expect(run.stderr).toContain('never overwrites');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect((await kube.get(cmRef))?.metadata.resourceVersion).toBe(before);
  });

  it('status shows each step: status, when, by whom, outputs, the last error; --verify adds the live check', async () => {
    const sb = sandbox(lab(), 'engine');
    const env = { ...sb.env, PLATCTL_TEST_STEPS: stepsModule };
    const failed = await platctl(['bootstrap', 'engine', '--config', sb.config, '--yes'], {
      ...env,
      PLATCTL_TEST_FAIL: 'final',
    });
    expect(failed.exitCode).toBe(1);
    const json = await platctl(['status', 'engine', '--config', sb.config, '--output', 'json'], env);
    expect(json.exitCode, json.all).toBe(0);
    type Row = { id: string; status: string; by?: string; finishedAt?: string; outputs: object; error?: string };
    const rows = (JSON.parse(json.stdout) as { steps: Row[] }).steps;
    expect(rows.map((r) => `${r.id}:${r.status}`)).toEqual(['seed:done', 'connect:done', 'slow:done', 'final:failed']);
    const slow = rows.find((r) => r.id === 'slow')!;
    expect(slow.by).toMatch(/^\S+@\S+/);
    expect(Date.parse(slow.finishedAt ?? '')).not.toBeNaN();
    expect(slow.outputs).toEqual({ configMap: 'platctl-test-slow' });
    expect(rows.find((r) => r.id === 'final')?.error).toContain('final failed on purpose');
    // Text: one line per step, the failure's message with it.
    const text = await platctl(['status', 'engine', '--config', sb.config], env);
    expect(text.stdout).toMatch(/slow\b.*done/);
    expect(text.stdout).toContain('final failed on purpose');
    // --verify runs each check against the real world: final's ConfigMap was never made.
    const verify = await platctl(['status', 'engine', '--config', sb.config, '--verify', '--output', 'json'], env);
    const checks = (JSON.parse(verify.stdout) as { steps: (Row & { check?: { status: string } })[] }).steps;
    expect(checks.find((r) => r.id === 'slow')?.check?.status).toBe('up-to-date');
    expect(checks.find((r) => r.id === 'final')?.check?.status).toBe('absent');
  });

  it('tears down in reverse order, moving state back to the local journal and removing platctl-system', async () => {
    const sb = sandbox(lab(), 'engine');
    const env = { ...sb.env, PLATCTL_TEST_STEPS: stepsModule };
    expect((await platctl(['bootstrap', 'engine', '--config', sb.config, '--yes'], env)).exitCode).toBe(0);
    const down = await platctl(['teardown', 'engine', '--config', sb.config, '--yes', '--output', 'json'], env);
    expect(down.exitCode, down.all).toBe(0);
    const report = JSON.parse(down.stdout);
    expect(report.steps.map((s: { id: string }) => s.id)).toEqual(['final', 'slow', 'connect', 'seed']);
    expect(report.steps.every((s: { result: string }) => s.result === 'destroyed')).toBe(true);
    const journal = JSON.parse(readFileSync(path.join(sb.home, 'engine', 'state.json'), 'utf8'));
    expect(journal.location).toBe('local');
    expect(Object.values(journal.steps).every((s) => (s as { status: string }).status === 'destroyed')).toBe(true);
    expect(
      await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'platctl-test-slow' }),
    ).toBeUndefined();
    expect(await readState()).toBeUndefined();
  });
});
