/**
 * The command tree (commander). Commands are thin: each action imports its module on demand and hands over to
 * the runner or a step. Global flags: --debug, --no-color, --kubeconfig, --context.
 */
import { Command, CommanderError, Option } from 'commander';
import { PlatctlError } from './errors.js';
import { VERSION } from './version.js';

/** Global flags every command sees. */
export interface GlobalOptions {
  debug?: boolean;
  color?: boolean;
  kubeconfig?: string;
  context?: string;
}

type Action = (...args: never[]) => Promise<number>;

const output = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');
const config = () => new Option('-c, --config <file>', 'platform config file').default('platform.yaml');

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
    .addOption(output())
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

  const notYet = (name: string) => async () => {
    throw new PlatctlError('NOT_IMPLEMENTED', `${name} is not implemented yet`);
  };
  const vault = program.command('vault').description('Vault operations');
  vault
    .command('init <cluster>')
    .description('initialise Vault with PGP-encrypted shares')
    .allowUnknownOption()
    .action(notYet('vault init'));
  vault
    .command('unseal <cluster>')
    .description('unseal a Shamir-sealed Vault')
    .allowUnknownOption()
    .action(notYet('vault unseal'));
  program
    .command('add-tenant <cluster> <tenant>')
    .description('onboard a tenant')
    .allowUnknownOption()
    .action(notYet('add-tenant'));
  program
    .command('remove-tenant <cluster> <tenant>')
    .description('remove a tenant')
    .allowUnknownOption()
    .action(notYet('remove-tenant'));

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
