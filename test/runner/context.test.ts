/**
 * The one step-context factory and the one kube target: --kubeconfig/--context beat platform.yaml, which beats
 * what the access step recorded, field by field; the Kubernetes client, helm and the access step's probe all
 * follow that one decision; contexts from one base share one connection per target.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Exec } from '../../src/clients/exec.js';
import type { KubeClient } from '../../src/clients/kube.js';
import type { KubeTarget } from '../../src/clients/kube-target.js';
import { validateConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { isPlatctlError } from '../../src/errors.js';
import { createClients } from '../../src/runner/clients.js';
import { baseOf, createStepContext, kubeAtState } from '../../src/runner/context.js';
import { emptyState } from '../../src/state/types.js';
import { helmFor } from '../../src/tools/helm.js';
import { rawCluster } from '../helpers/config.js';
import { memoryLogger } from '../helpers/memory-logger.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'platctl-context-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A cluster config whose `kubernetes` section sets the given kubeconfig/context. */
function cluster(kubernetes: KubeTarget = {}): ClusterConfig {
  const raw = { ...rawCluster('demo'), kubernetes: { version: '1.34', ...kubernetes } };
  const c = validateConfig({ clusters: [raw] }, 'context test').clusters[0];
  if (!c) throw new Error('lost the cluster');
  return c;
}

const recorded = { access: { kubeconfig: '/recorded/config', context: 'recorded', server: 'https://r.example' } };

/** A kubeAt that records the targets it was asked for and answers with a stub client. */
function spyKubeAt() {
  const targets: KubeTarget[] = [];
  const kubeAt = async (t: KubeTarget) => {
    targets.push(t);
    return { server: `https://${t.context ?? 'none'}.example` } as KubeClient;
  };
  return { targets, kubeAt };
}

describe('the kube target', () => {
  it('takes the flags over platform.yaml over what the access step recorded, field by field', () => {
    const log = memoryLogger();
    const flagged = createStepContext({
      cluster: cluster({ kubeconfig: '/config/file', context: 'configured' }),
      log,
      flags: { context: 'flagged' },
      outputs: recorded,
    });
    expect(flagged.kubeTarget.requested).toEqual({ kubeconfig: '/config/file', context: 'flagged' });
    expect(flagged.kubeTarget.current()).toEqual({ kubeconfig: '/config/file', context: 'flagged' });

    const configured = createStepContext({ cluster: cluster({ context: 'configured' }), log, outputs: recorded });
    expect(configured.kubeTarget.requested).toEqual({ kubeconfig: undefined, context: 'configured' });
    expect(configured.kubeTarget.current()).toEqual({ kubeconfig: '/recorded/config', context: 'configured' });

    const bare = createStepContext({ cluster: cluster(), log, outputs: recorded });
    expect(bare.kubeTarget.requested).toEqual({ kubeconfig: undefined, context: undefined });
    expect(bare.kubeTarget.current()).toEqual({ kubeconfig: '/recorded/config', context: 'recorded' });
  });

  it('follows the access step as the run records it (the outputs reader is live)', async () => {
    const outputs: Record<string, Record<string, string>> = {};
    const spy = spyKubeAt();
    const ctx = createStepContext({
      cluster: cluster(),
      log: memoryLogger(),
      clients: { kubeAt: spy.kubeAt },
      outputs,
    });
    await ctx.kube();
    outputs.access = { kubeconfig: '/written/by/access', context: 'demo' };
    await ctx.kube();
    expect(spy.targets).toEqual([
      { kubeconfig: undefined, context: undefined },
      { kubeconfig: '/written/by/access', context: 'demo' },
    ]);
  });

  it('reaches helm: --kubeconfig and --kube-context are the current target', async () => {
    const calls: string[][] = [];
    const exec: Exec = {
      async run(_file, args) {
        calls.push([...args]);
        return { stdout: '[]', stderr: '', exitCode: 0 };
      },
    };
    const ctx = createStepContext({
      cluster: cluster({ context: 'configured' }),
      log: memoryLogger(),
      clients: { exec },
      flags: { kubeconfig: '/flag/config', context: 'flagged' },
      outputs: recorded,
    });
    await helmFor(ctx).list();
    expect(calls[0]).toEqual(expect.arrayContaining(['--kubeconfig', '/flag/config', '--kube-context', 'flagged']));

    const unflagged = createStepContext({
      cluster: cluster(),
      log: memoryLogger(),
      clients: { exec },
      outputs: recorded,
    });
    await helmFor(unflagged).list();
    expect(calls[1]).toEqual(
      expect.arrayContaining(['--kubeconfig', '/recorded/config', '--kube-context', 'recorded']),
    );
  });

  it('opens a session at the target its state records (kubeAtState)', async () => {
    const spy = spyKubeAt();
    const base = baseOf(
      createStepContext({ cluster: cluster(), log: memoryLogger(), clients: { kubeAt: spy.kubeAt } }),
    );
    const state = emptyState('demo');
    state.steps.access = { status: 'done', outputs: recorded.access };
    await kubeAtState(base, state);
    await kubeAtState(base, undefined);
    expect(spy.targets).toEqual([
      { kubeconfig: '/recorded/config', context: 'recorded' },
      { kubeconfig: undefined, context: undefined },
    ]);
  });
});

describe('createClients', () => {
  it('connects once per target and shares the connection between every context of a run', async () => {
    const file = path.join(tmp, 'kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '  - { name: a, cluster: { server: "https://127.0.0.1:1" } }',
        '  - { name: b, cluster: { server: "https://127.0.0.2:1" } }',
        'users: [{ name: u, user: { token: t } }]',
        'contexts:',
        '  - { name: a, context: { cluster: a, user: u } }',
        '  - { name: b, context: { cluster: b, user: u } }',
        'current-context: a',
      ].join('\n'),
    );
    const c = cluster({ kubeconfig: file });
    const clients = createClients(c);
    const one = createStepContext({ cluster: c, log: memoryLogger(), clients });
    const two = createStepContext({ cluster: c, log: memoryLogger(), clients, flags: { context: 'b' } });
    const [a1, a2, b] = await Promise.all([one.kube(), one.kube(), two.kube()]);
    expect(a1).toBe(a2);
    expect(a1).toBe(await createStepContext({ cluster: c, log: memoryLogger(), clients }).kube());
    expect(a1.server).toBe('https://127.0.0.1:1');
    expect(b.server).toBe('https://127.0.0.2:1');
  });

  it('does not keep a failed connection: the next call tries again', async () => {
    const missing = path.join(tmp, 'not-yet');
    const c = cluster({ kubeconfig: missing });
    const ctx = createStepContext({ cluster: c, log: memoryLogger(), clients: createClients(c) });
    const err = await ctx.kube().catch((e: unknown) => e);
    expect(isPlatctlError(err) && err.code).toBe('KUBE_UNREACHABLE');
    writeFileSync(
      missing,
      'apiVersion: v1\nkind: Config\nclusters: [{ name: a, cluster: { server: "https://127.0.0.3:1" } }]\nusers: [{ name: u, user: {} }]\ncontexts: [{ name: a, context: { cluster: a, user: u } }]\ncurrent-context: a\n',
    );
    expect((await ctx.kube()).server).toBe('https://127.0.0.3:1');
  });
});

describe('createStepContext defaults', () => {
  it('progress goes to the logger, checks are deep, and prompts honour --yes and the terminal', async () => {
    const log = memoryLogger();
    const ctx = createStepContext({ cluster: cluster(), log });
    ctx.progress('halfway');
    expect(log.lines).toEqual(['  halfway']);
    expect(ctx.deep).toBe(true);
    expect(ctx.dryRun).toBe(false);
    const err = await ctx.prompt.confirm('go?').catch((e: unknown) => e);
    expect(isPlatctlError(err) && err.code).toBe('NO_TTY');
    expect(await createStepContext({ cluster: cluster(), log, yes: true }).prompt.confirm('go?')).toBe(true);
  });
});
