/**
 * `platctl add-tenant` / `remove-tenant` as commands (lab): the command modules driven through commander with
 * the same flags src/cli.ts wires (src/commands/tenant-options.ts), a sandbox platform.yaml and PLATCTL_HOME,
 * the real state journal and run lock, the lab apiserver and fleet repo. Bad input exits 2 before anything is
 * written; the platform.yaml `tenants:` entry is merged with the flags.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KubeClient } from '../../src/clients/kube.js';
import addTenant from '../../src/commands/add-tenant.js';
import removeTenant from '../../src/commands/remove-tenant.js';
import { addTenantOptions, removeTenantOptions } from '../../src/commands/tenant-options.js';
import { isPlatctlError } from '../../src/errors.js';
import { journalPath } from '../../src/state/journal.js';
import type { TenantReport } from '../../src/tenants/tenants.js';
import { fleetHead, labKube, useOperatorCredentials } from '../helpers/flux-context.js';
import { type Sandbox, sandbox } from '../helpers/platctl.js';
import { saveEnv } from '../helpers/saved-env.js';
import { ensureTenantPrereqs } from '../helpers/tenants.js';
import { lab } from '../lab/env.js';

const env = lab();
const id = Math.random().toString(36).slice(2, 7);
const clusterName = `cmd-tenants-${id}`;
const cfgTenant = `cfg-${id}`;
const restoreEnv = saveEnv('PLATCTL_HOME', 'GIT_SSH_COMMAND');
let box: Sandbox;
let kube: KubeClient;
let cleanup: () => Promise<void>;

/** Runs `platctl <argv>` through commander and the command modules; errors become their exit codes. */
async function run(argv: string[]): Promise<{ code: number; error?: string; stdout: string }> {
  const program = new Command('platctl').exitOverride();
  let code = 0;
  addTenantOptions(program.command('add-tenant <cluster> <tenant>')).action(async (c, t, opts, cmd) => {
    code = await addTenant(c, t, opts, cmd);
  });
  removeTenantOptions(program.command('remove-tenant <cluster> <tenant>')).action(async (c, t, opts, cmd) => {
    code = await removeTenant(c, t, opts, cmd);
  });
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['node', 'platctl', ...argv, '--config', box.config]);
    return { code, stdout: out.join('') };
  } catch (err) {
    if (!isPlatctlError(err)) throw err;
    return { code: err.exitCode, error: err.message, stdout: out.join('') };
  } finally {
    spy.mockRestore();
  }
}
const json = (r: { stdout: string }) => JSON.parse(r.stdout) as TenantReport;
const journal = () => JSON.parse(readFileSync(journalPath(clusterName), 'utf8'));

beforeAll(async () => {
  box = sandbox(env, clusterName, {
    tenants: [
      { name: cfgTenant, repo: 'https://git.example.com/cfg.git', hosts: [`cfg-${id}.lab.test`], role: 'edit' },
    ],
  });
  process.env.PLATCTL_HOME = box.home;
  useOperatorCredentials(env);
  kube = await labKube(env);
  cleanup = await ensureTenantPrereqs(kube, 'platform-gateway');
});

afterAll(async () => {
  await run(['remove-tenant', clusterName, cfgTenant, '--apply', '--yes']);
  await run(['remove-tenant', clusterName, `cli-${id}`, '--apply', '--yes']);
  await cleanup();
  restoreEnv();
  await rm(box.dir, { recursive: true, force: true });
});

describe('platctl add-tenant (command, lab)', () => {
  it('adds the platform.yaml tenant with --apply; a re-run makes no commit', async () => {
    const first = await run(['add-tenant', clusterName, cfgTenant, '--apply', '--yes', '-o', 'json']);
    expect(first.error).toBeUndefined();
    expect(first.code).toBe(0);
    expect(json(first)).toMatchObject({ tenants: [cfgTenant], fleet: { committed: true }, gateway: { changed: true } });
    expect(journal().records.tenants[cfgTenant]).toMatchObject({
      namespaces: [cfgTenant],
      hosts: [`cfg-${id}.lab.test`],
      role: 'edit',
      commit: json(first).fleet.commit,
    });
    const head = await fleetHead(env);
    const again = await run(['add-tenant', clusterName, cfgTenant, '--apply', '--yes', '-o', 'json']);
    expect(again.code).toBe(0);
    expect(json(again)).toMatchObject({
      fleet: { committed: false },
      gateway: { changed: false },
      live: { applied: 0 },
    });
    expect(await fleetHead(env)).toBe(head);
  });

  const repo = ['--repo', 'https://git.example.com/t.git'];
  it.each([
    [['BadName', ...repo], /tenant name "BadName" is not a DNS-1123 label/],
    [['t', ...repo, '--role', 'cluster-admin'], /never gets cluster-admin/],
    [['t', ...repo, '--quota', 'cpu=4,gpu=1'], /--quota "gpu=1"/],
    [['t', ...repo, '--host', 'bad_host'], /--host "bad_host" is not a DNS name/],
    [['t', ...repo, '--namespace', 'kube-system'], /namespace kube-system is a platform namespace/],
    [['t'], /tenant t has no source repository/],
  ])('bad input %j exits 2 before anything is written', async (args, message) => {
    const head = await fleetHead(env);
    const r = await run(['add-tenant', clusterName, ...args]);
    expect(r.code).toBe(2);
    expect(r.error).toMatch(message);
    expect(await fleetHead(env)).toBe(head);
  });

  it('refuses a namespace and a host another tenant holds (exit 2)', async () => {
    const repo = ['--repo', 'https://git.example.com/cli.git'];
    const ns = await run(['add-tenant', clusterName, `cli-${id}`, '--namespace', cfgTenant, ...repo]);
    expect(ns).toMatchObject({ code: 2, error: `namespace ${cfgTenant} already belongs to tenant ${cfgTenant}` });
    const host = await run(['add-tenant', clusterName, `cli-${id}`, '--host', `cfg-${id}.lab.test`, ...repo]);
    expect(host).toMatchObject({ code: 2, error: `host cfg-${id}.lab.test is already bound to tenant ${cfgTenant}` });
    expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: `cli-${id}` })).toBeUndefined();
  });

  it('--dry-run changes nothing; remove-tenant asks first (no terminal, no --yes: exit 2), then removes', async () => {
    const head = await fleetHead(env);
    const dry = await run(['remove-tenant', clusterName, cfgTenant, '--apply', '--dry-run', '-o', 'json']);
    expect(dry.code).toBe(0);
    expect(json(dry)).toMatchObject({ dryRun: true, fleet: { committed: false }, gateway: { changed: true } });
    const asked = await run(['remove-tenant', clusterName, cfgTenant, '--apply']);
    expect(asked.code).toBe(2);
    expect(asked.error).toMatch(/cannot ask "remove tenant .* without a terminal/);
    expect(await fleetHead(env)).toBe(head);
    const removed = await run(['remove-tenant', clusterName, cfgTenant, '--apply', '--yes']);
    expect(removed.code).toBe(0);
    expect(journal().records.tenants[cfgTenant]).toBeUndefined();
    expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: cfgTenant })).toBeUndefined();
  });
});
