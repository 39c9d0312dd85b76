/**
 * The command wiring: the global --kubeconfig/--context flags reach the run's context base, so the step
 * contexts, the state session and helm all talk to the cluster the command line named.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { KubeClient } from '../../src/clients/kube.js';
import type { KubeTarget } from '../../src/clients/kube-target.js';
import { type CommandSetup, setupCommand } from '../../src/commands/common.js';
import { emptyState } from '../../src/state/types.js';
import { rawCluster } from '../helpers/config.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'platctl-common-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Parses argv the way cli.ts does (global flags on the root) and returns the command's setup. */
async function setupFrom(argv: string[]): Promise<CommandSetup> {
  const config = path.join(tmp, 'platform.yaml');
  const raw = { ...rawCluster('demo'), kubernetes: { version: '1.34', kubeconfig: '/config/file', context: 'cfg' } };
  writeFileSync(config, stringify({ clusters: [raw] }));
  let setup: CommandSetup | undefined;
  const program = new Command('platctl').option('--kubeconfig <file>').option('--context <name>');
  program
    .command('status <cluster>')
    .option('--config <file>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      setup = await setupCommand(name, cmd);
    });
  await program.parseAsync(['node', 'platctl', ...argv, '--config', config]);
  if (!setup) throw new Error('the action did not run');
  return setup;
}

it('--context and --kubeconfig reach every step context and the session of the command', async () => {
  const setup = await setupFrom(['--context', 'flagged', 'status', 'demo']);
  const targets: KubeTarget[] = [];
  (setup.base.clients as { kubeAt: (t: KubeTarget) => Promise<KubeClient> }).kubeAt = async (t) => {
    targets.push(t);
    return { server: 'https://stub.example' } as KubeClient;
  };
  const ctx = setup.context({ outputs: { access: { kubeconfig: '/recorded', context: 'recorded' } } });
  expect(ctx.kubeTarget.current()).toEqual({ kubeconfig: '/config/file', context: 'flagged' });
  await setup.session('status', false).kube(emptyState('demo'));
  await ctx.kube();
  expect(targets).toEqual([
    { kubeconfig: '/config/file', context: 'flagged' },
    { kubeconfig: '/config/file', context: 'flagged' },
  ]);

  const both = await setupFrom(['--kubeconfig', '/flag/file', 'status', 'demo']);
  expect(both.context().kubeTarget.requested).toEqual({ kubeconfig: '/flag/file', context: 'cfg' });
});
