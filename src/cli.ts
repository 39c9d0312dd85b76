/**
 * The command tree (commander). Commands are thin: each action imports its module on demand and hands over to
 * the runner or a step. Global flags: --debug, --no-color, --kubeconfig, --context.
 */
import { Command, CommanderError } from 'commander';
import { collect, configOption, outputOption } from './cli-options.js';
import { addTenantOptions, removeTenantOptions } from './commands/tenant-options.js';
import { VERSION } from './version.js';

type Action = (...args: never[]) => Promise<number>;

const output = outputOption;
const config = configOption;

/** Builds the program; run() parses argv and resolves to the exit code. */
export function buildProgram(): { program: Command; run(argv: string[]): Promise<number> } {
  let exitCode = 0;
  const program = new Command('platctl')
    .description('From an empty AWS account to an EKS cluster under GitOps, and back again.')
    .version(VERSION, '-V, --version')
    .option('--debug', 'show debug logs and stack traces')
    .option('--no-color', 'disable colour (NO_COLOR is honoured too)')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .showHelpAfterError('(run with --help for usage)')
    // Usage errors look like every other platctl error: one ✗ line (then commander's help pointer).
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, '✗ ')) })
    .exitOverride();

  /** Wraps an action so it imports its module lazily and records the exit code. */
  const lazy =
    (load: () => Promise<{ default: Action }>) =>
    async (...args: unknown[]) => {
      const mod = await load();
      exitCode = await mod.default(...(args as never[]));
    };

  program
    .command('init')
    .description('interactive wizard that writes a validated platform.yaml')
    .addOption(config())
    .option('--force', 'overwrite an existing file')
    .action(lazy(() => import('./commands/init.js')));

  program
    .command('bootstrap <cluster>')
    .description('run every step so the cluster matches platform.yaml')
    .addOption(config())
    .option('--dry-run', 'run only the checks and print what would change')
    .option('-y, --yes', 'do not prompt')
    .option('--from <step>', 'start at this step')
    .option('--only <step>', 'run just this step')
    .option('--verify', 'run every deep drift check (terraform plan, helm diff)')
    .option('--break-lock', 'take over a stale run lock')
    .addOption(output())
    .action(lazy(() => import('./commands/bootstrap.js')));

  program
    .command('status <cluster>')
    .description("each step's status, when, by whom, outputs and last error")
    .addOption(config())
    .option('--verify', 'also run every step check against the real world')
    .option('--vars', 'print the cluster variables Flux substitutes (flux-system/platform-vars) instead')
    .addOption(output(['text', 'json', 'env']))
    .action(lazy(() => import('./commands/status.js')));

  program
    .command('teardown <cluster>')
    .description('destroy what bootstrap made, in exactly the reverse order')
    .addOption(config())
    .option('--dry-run', 'list what would be removed')
    .option('-y, --yes', 'do not ask for the cluster name')
    .option('--break-lock', 'take over a stale run lock')
    .addOption(output())
    .action(lazy(() => import('./commands/teardown.js')));

  program
    .command('istio')
    .description('Istio operations')
    .command('upgrade <cluster>')
    .description('canary-upgrade Istio: install a revision beside the old one, move tags, roll back or finish')
    .addOption(config())
    .requiredOption('--version <version>', 'Istio version to upgrade to, e.g. 1.30.4')
    .option('--tag <tag>', 'move this revision tag to the new revision (with --rollback: back)')
    .option('--rollback', 'move the tag back; without --tag, move every tag back and remove the new revision')
    .option('--finish', 'remove the old revision once no namespace points at it')
    .option('-y, --yes', 'do not prompt')
    .option('--break-lock', 'take over a stale run lock')
    .addOption(output())
    .action(lazy(() => import('./commands/istio-upgrade.js')));

  const flux = program.command('flux').description('Flux operations');
  flux
    .command('rotate-key <cluster>')
    .description('replace the Flux deploy key (Secret flux-system/flux-system) and print the new public key')
    .addOption(config())
    .option('-y, --yes', 'replace at once instead of waiting until the new key can read the fleet repo')
    .option('--break-lock', 'take over a stale run lock')
    .action(lazy(() => import('./commands/flux-rotate-key.js')));

  const vault = program.command('vault').description('Vault operations');
  vault
    .command('init <cluster>')
    .description('initialise Vault; shares and root token PGP-encrypted by Vault to the given public keys')
    .addOption(config())
    .option('--pgp-key <file>', 'PGP public key for one share (repeat; the number of shares is their count)', collect)
    .option('--key-threshold <n>', 'shares needed to unseal or recover')
    .option('--root-token-pgp-key <file>', 'PGP public key the root token is encrypted to')
    .option('--vault-addr <url>', 'Vault address (default: $VAULT_ADDR, else a port-forward to vault-0)')
    .option('-y, --yes', 'do not ask before initialising')
    .option('--break-lock', 'take over a stale run lock')
    .addOption(output())
    .action(lazy(() => import('./commands/vault-init.js')));
  vault
    .command('unseal <cluster>')
    .description('unseal a Shamir-sealed Vault: prompts (hidden) for decrypted shares, then checks Raft peers')
    .addOption(config())
    .option('--vault-addr <url>', 'Vault address (default: $VAULT_ADDR, else a port-forward to the pod)')
    .option('--pod <name>', 'pod to port-forward to (each sealed replica is unsealed on its own)', 'vault-0')
    .option('--reset', 'discard an unseal attempt already in progress')
    .addOption(output())
    .action(lazy(() => import('./commands/vault-unseal.js')));
  addTenantOptions(
    program
      .command('add-tenant <cluster> <tenant>')
      .description('onboard a tenant: fleet repo files and gateway hosts; with --apply the objects at once'),
  ).action(lazy(() => import('./commands/add-tenant.js')));
  removeTenantOptions(
    program
      .command('remove-tenant <cluster> <tenant>')
      .description('remove a tenant (fleet files, gateway hosts; with --apply its namespaces)'),
  ).action(lazy(() => import('./commands/remove-tenant.js')));

  const eks = program.command('eks').description('EKS helpers');
  eks
    .command('token')
    .description('print an ExecCredential with an EKS bearer token (kubectl exec plugin; no aws CLI needed)')
    .requiredOption('--cluster <name>', 'EKS cluster name')
    .option('--region <region>', 'AWS region (default: $AWS_REGION)')
    .option('--role-arn <arn>', 'assume this IAM role before signing')
    .action(lazy(() => import('./commands/eks-token.js')));

  program
    .command('doctor')
    .description('check external tools, AWS credentials and Kubernetes reachability')
    .addOption(config().default(undefined))
    .option('--cluster <name>', 'cluster from the config to check against')
    .addOption(output())
    .action(lazy(() => import('./commands/doctor.js')));

  program
    .command('completion <shell>')
    .description('print a shell completion script (bash, zsh or fish)')
    .action(lazy(() => import('./commands/completion.js')));

  program
    .command('config')
    .description('config helpers')
    .command('schema')
    .description('print the JSON Schema of platform.yaml')
    .action(lazy(() => import('./commands/config-schema.js')));

  return {
    program,
    async run(argv: string[]) {
      // Below a subcommand, --version is the subcommand's (istio upgrade --version X), not platctl's.
      const first = argv.slice(2).find((a) => !a.startsWith('-'));
      if (first && program.commands.some((c) => c.name() === first)) {
        const root = program as unknown as { options: { long?: string }[] };
        root.options = root.options.filter((o) => o.long !== '--version');
      }
      try {
        await program.parseAsync(argv);
      } catch (err) {
        if (err instanceof CommanderError) {
          if (
            err.code === 'commander.helpDisplayed' ||
            err.code === 'commander.version' ||
            err.code === 'commander.help'
          )
            return 0;
          return 2;
        }
        throw err;
      }
      return exitCode;
    },
  };
}
