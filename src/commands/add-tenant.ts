/**
 * `platctl add-tenant <cluster> <tenant>`: onboards a team that deploys from its own git repo and can touch
 * nothing else. Thin: flags → validated tenant, then src/tenants/tenants.ts under the run lock.
 * See docs/commands/add-tenant.md.
 */
import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { withSession } from '../runner/session.js';
import type { StepContext } from '../step.js';
import {
  addTenants,
  resolveTenant,
  type TenantFlags,
  type TenantReport,
  type TenantRunOptions,
} from '../tenants/tenants.js';
import { type CommandSetup, printResult, setupCommand } from './common.js';

/** The flags of add-tenant: the tenant's own (see {@link TenantFlags}) and the command's. */
export interface AddTenantOptions extends TenantFlags {
  config: string;
  apply?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  output?: string;
}

/** Opens the state session (locked unless --dry-run), builds the context, runs `fn`, prints its report. */
export async function runTenantCommand(
  setup: CommandSetup,
  command: string,
  fn: (ctx: StepContext, io: Pick<TenantRunOptions, 'store' | 'state'>) => Promise<TenantReport>,
): Promise<number> {
  return withSession(setup.session(command), async (session) => {
    const io = { store: session.store, state: session.state };
    const ctx = setup.context({ outputs: (id) => io.state.steps[id]?.outputs ?? {} });
    const report = await fn(ctx, io);
    printResult(setup.flags, report, () => reportLines(report));
    return ExitCode.ok;
  });
}

/** The human summary of a report. */
export function reportLines(r: TenantReport): string[] {
  const would = r.dryRun ? 'would change' : 'changed';
  const lines = [
    `tenant ${r.tenants.join(', ')} on cluster ${r.cluster}${r.dryRun ? ' (dry run)' : ''}`,
    r.fleet.committed
      ? `  fleet: commit ${r.fleet.commit} (${r.fleet.changed.length} file(s))`
      : `  fleet: ${r.fleet.changed.length > 0 ? `${r.fleet.changed.length} file(s) ${would}` : 'up to date'}`,
    `  gateway ${r.gateway.name}: ${r.gateway.changed ? would : 'up to date'}`,
  ];
  if (r.live) {
    const { applied, deleted, unchanged } = r.live;
    lines.push(
      `  cluster: ${applied} applied, ${deleted} deleted, ${unchanged} unchanged${r.dryRun ? ' (planned)' : ''}`,
    );
  }
  const created = r.keys.filter((x) => x.created);
  for (const k of created) {
    lines.push(
      r.dryRun
        ? `  deploy key ${k.tenant}: would create Secret ${k.secret}`
        : `  deploy key ${k.tenant} (add it to ${k.repo}, read-only): ${k.publicKey}`,
    );
  }
  const first = created[0];
  if (first && !r.dryRun) {
    // source-controller backs off a source it cannot read (up to --max-retry-delay, 15 min): say how to skip it.
    const ns = first.secret.split('/')[0];
    lines.push(
      `  until a key is on its repository, Flux retries that tenant's source with growing delays (up to 15 min); once added: flux reconcile source git ${first.tenant} -n ${ns}`,
    );
  }
  return lines;
}

/** Runs add-tenant and returns the exit code. */
export default async function addTenant(
  cluster: string,
  tenant: string,
  opts: AddTenantOptions,
  cmd: Command,
): Promise<number> {
  const setup = await setupCommand(cluster, cmd);
  // Bad input fails here, before any lock, connection or write.
  const spec = resolveTenant(setup.cluster, tenant, opts);
  return runTenantCommand(setup, 'add-tenant', (ctx, io) => addTenants(ctx, [spec], { ...io, apply: opts.apply }));
}
