/** What the cluster commands share: loading the config, building the step context, printing results. */
import type { Command } from 'commander';
import type { GlobalOptions } from '../cli.js';
import { createAwsClients } from '../clients/aws.js';
import { createExec } from '../clients/exec.js';
import { connectKube, type KubeClient, type KubeTarget } from '../clients/kube.js';
import { loadConfig, selectCluster } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import { createLogger, type Logger, wantColour } from '../log.js';
import type { BaseContext, PipelineOptions } from '../runner/pipeline.js';
import { maskSecrets } from '../secrets.js';
import type { State, StepOutputs } from '../state/types.js';

/** The parsed flags of a cluster command plus the globals. */
export interface ClusterFlags extends GlobalOptions {
  config: string;
  output?: 'text' | 'json';
  dryRun?: boolean;
  yes?: boolean;
  verify?: boolean;
  breakLock?: boolean;
}

/** Everything a cluster command needs, built once. */
export interface CommandSetup {
  cluster: ClusterConfig;
  flags: ClusterFlags;
  log: Logger;
  tty: boolean;
  colour: boolean;
  /** Connects once; later calls reuse the client. */
  kube: () => Promise<KubeClient>;
  /** The step context minus per-task parts. `accessOutputs` feeds the kube target once the access step ran. */
  base(accessOutputs: () => StepOutputs): BaseContext;
}

/**
 * The pipeline options a cluster command takes from its setup, for a run starting from `state`: the base
 * context (its kube target follows the access step's outputs as the run records them, via onState), tty,
 * debug and colour.
 */
export function runOptions(
  setup: CommandSetup,
  state: State,
): Pick<PipelineOptions, 'base' | 'tty' | 'debug' | 'colour' | 'onState'> {
  let current = state;
  return {
    base: setup.base(() => current.steps.access?.outputs ?? {}),
    tty: setup.tty,
    debug: setup.flags.debug,
    colour: setup.colour,
    onState: (s) => {
      current = s;
    },
  };
}

/** Where to reach the cluster: flags beat config, config beats what the access step wrote. */
export function kubeTarget(flags: GlobalOptions, cluster: ClusterConfig, access: StepOutputs = {}): KubeTarget {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    kubeconfig: flags.kubeconfig ?? cluster.kubernetes.kubeconfig ?? str(access.kubeconfig),
    context: flags.context ?? cluster.kubernetes.context ?? str(access.context),
  };
}

/** Reads the config and prepares clients for one cluster command. */
export async function setupCommand(clusterName: string, cmd: Command): Promise<CommandSetup> {
  const flags = cmd.optsWithGlobals() as ClusterFlags;
  const colour = wantColour(flags.color);
  const tty = Boolean(process.stderr.isTTY) && flags.output !== 'json' && !process.env.CI;
  const log = createLogger({ debug: flags.debug, colour });
  const config = await loadConfig(flags.config);
  const cluster = selectCluster(config, clusterName, flags.config);
  let access: () => StepOutputs = () => ({});
  let kube: Promise<KubeClient> | undefined;
  const getKube = () => {
    kube ??= connectKube(kubeTarget(flags, cluster, access()));
    kube.catch(() => {
      kube = undefined;
    });
    return kube;
  };
  return {
    cluster,
    flags,
    log,
    tty,
    colour,
    kube: getKube,
    base(accessOutputs) {
      access = accessOutputs;
      return {
        cluster,
        log,
        exec: createExec(),
        aws: createAwsClients({ region: cluster.aws.region, profile: cluster.aws.profile }),
        kube: getKube,
        kubeconfig: flags.kubeconfig,
        dryRun: Boolean(flags.dryRun),
        yes: Boolean(flags.yes),
        interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
      };
    },
  };
}

/** Writes a result to stdout: JSON with --output json, else the given lines. Masked either way. */
export function printResult(flags: { output?: string }, json: unknown, lines: () => string[]): void {
  if (flags.output === 'json') process.stdout.write(`${maskSecrets(JSON.stringify(json, null, 2))}\n`);
  else for (const l of lines()) process.stdout.write(`${maskSecrets(l)}\n`);
}
