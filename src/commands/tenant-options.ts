/**
 * The flags of add-tenant and remove-tenant, in one light module (commander only) so src/cli.ts can wire
 * them without loading the tenant code, and tests can build the same command.
 */
import type { Command } from 'commander';
import { collect, configOption, outputOption } from '../cli-options.js';

const common = (cmd: Command) =>
  cmd
    .addOption(configOption())
    .option('--apply', 'also change the cluster now (server-side apply / delete), not only the fleet repo')
    .option('--dry-run', 'print what would change; write nothing')
    .option('-y, --yes', 'do not prompt')
    .option('--break-lock', 'take over a stale run lock')
    .addOption(outputOption());

/** Adds add-tenant's flags to `cmd`. */
export function addTenantOptions(cmd: Command): Command {
  return common(
    cmd
      .option('--namespace <name>', 'a namespace of the tenant (repeatable; default: the tenant name)', collect)
      .option('--repo <url>', "the tenant's git repository (https:// or ssh://)")
      .option(
        '--secret-ref <name>',
        "a Secret in the tenant's namespace with credentials for --repo (default: a deploy key platctl makes for ssh)",
      )
      .option('--branch <name>', 'branch of the tenant repository (default: main)')
      .option('--path <dir>', 'folder in the tenant repository (default: ./)')
      .option('--role <clusterrole>', 'ClusterRole bound in each namespace (default: admin; never cluster-admin)')
      .option('--quota <spec>', 'per-namespace quota, e.g. cpu=4,memory=8Gi,pods=50')
      .option('--host <name>', 'a hostname bound to the ingress gateway (repeatable)', collect),
  );
}

/** Adds remove-tenant's flags to `cmd`. */
export function removeTenantOptions(cmd: Command): Command {
  return common(cmd);
}
