/**
 * `platctl remove-tenant <cluster> <tenant>`: reverses add-tenant — the tenant's files and reference leave
 * the fleet repo, its hosts leave the Gateway, with --apply its objects and namespaces are deleted (waited
 * for), and its state record goes. See docs/commands/add-tenant.md.
 */
import type { Command } from 'commander';
import { removeTenant as removeOne } from '../tenants/tenants.js';
import { assertLabel } from '../tenants/validate.js';
import { runTenantCommand } from './add-tenant.js';
import { setupCommand } from './common.js';

/** The flags of remove-tenant. */
export interface RemoveTenantOptions {
  config: string;
  apply?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  output?: string;
}

/** Runs remove-tenant and returns the exit code. */
export default async function removeTenant(
  cluster: string,
  tenant: string,
  opts: RemoveTenantOptions,
  cmd: Command,
): Promise<number> {
  const setup = await setupCommand(cluster, cmd);
  assertLabel('tenant name', tenant);
  return runTenantCommand(setup, 'remove-tenant', (ctx, io) => removeOne(ctx, tenant, { ...io, apply: opts.apply }));
}
