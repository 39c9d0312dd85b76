/**
 * `npm run demo` after the lab was wiped (lab down, or npm test's teardown): the demo's old journal points at a
 * state ConfigMap that no longer exists. prepareLab moves those local files aside so the demo starts afresh,
 * and leaves them alone while the lab still holds the demo's state. Against the lab's apiserver.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { prepareLab } from '../../scripts/demo-lib.js';
import { connectKube } from '../../src/clients/kube.js';
import { removeClusterState } from '../../src/runner/session.js';
import { ensureSystemNamespace } from '../../src/state/configmap.js';
import { saveEnv } from '../helpers/saved-env.js';
import { lab } from '../lab/env.js';

const restore = saveEnv('PLATCTL_HOME');
const home = mkdtempSync(path.join(os.tmpdir(), 'platctl-demo-lib-'));
const kube = await connectKube({ kubeconfig: lab().kubeconfig });
const quiet = () => undefined;

function oldDemo(location: string) {
  mkdirSync(path.join(home, 'demo'), { recursive: true });
  writeFileSync(path.join(home, 'demo', 'state.json'), JSON.stringify({ version: 1, cluster: 'demo', location }));
}

afterAll(async () => {
  await removeClusterState(kube);
  restore();
});

it('moves a journal pointing at a wiped lab aside, and keeps it while the lab holds the state', async () => {
  process.env.PLATCTL_HOME = home;
  await removeClusterState(kube);
  oldDemo('cluster');
  const said: string[] = [];
  await prepareLab((m) => said.push(m), quiet);
  expect(existsSync(path.join(home, 'demo'))).toBe(false);
  const aside = readdirSync(home).filter((f) => f.startsWith('demo.stale-'));
  expect(aside).toHaveLength(1);
  expect(existsSync(path.join(home, aside[0]!, 'state.json'))).toBe(true);
  expect(said.join('\n')).toContain('the lab was wiped since the last demo');

  // The lab still holds the demo's state: nothing is moved.
  oldDemo('cluster');
  await ensureSystemNamespace(kube);
  await kube.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'platctl-state', namespace: 'platctl-system' },
    data: { 'state.json': JSON.stringify({ version: 1, cluster: 'demo', location: 'cluster' }) },
  });
  await prepareLab(quiet, quiet);
  expect(existsSync(path.join(home, 'demo', 'state.json'))).toBe(true);
});
