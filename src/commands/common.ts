/** What the cluster commands share: loading the config, the run's context base and session, printing results. */
import type { Command } from 'commander';
import type { GlobalOptions } from '../cli-options.js';
import { loadConfig, selectCluster } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import { createLogger, type Logger, wantColour } from '../log.js';
import { createClients } from '../runner/clients.js';
import { type ContextBase, createStepContext, kubeAtState, type StepContextOptions } from '../runner/context.js';
import type { PipelineOptions } from '../runner/pipeline.js';
import type { SessionOptions } from '../runner/session.js';
import { maskSecrets } from '../secrets.js';
import type { StepContext } from '../step.js';

/** The parsed flags of a cluster command plus the globals. */
export interface ClusterFlags extends GlobalOptions {
  config: string;
  output?: 'text' | 'json' | 'env';
  dryRun?: boolean;
  yes?: boolean;
  verify?: boolean;
  breakLock?: boolean;
}

/** Everything a cluster command needs, built once. */
export interface CommandSetup {
  cluster: ClusterConfig;
  /** The cluster's index in platform.yaml (field paths: `clusters[0].…`). */
  index: number;
  flags: ClusterFlags;
  log: Logger;
  tty: boolean;
  colour: boolean;
  /** What every step context of this command shares: clients (one connection per kube target), flags. */
  base: ContextBase;
  /** The pipeline options that come from the command line: the base, tty, debug, colour. */
  run: Pick<PipelineOptions, 'base' | 'tty' | 'debug' | 'colour'>;
  /** Session options for `command`: locked unless --dry-run (or `lock` says otherwise), --break-lock honoured. */
  session(command: string, lock?: boolean): SessionOptions;
  /** A step context outside the runner (day-2 commands), over the base. */
  context(o?: Partial<StepContextOptions>): StepContext;
}

/** Reads the config and prepares clients for one cluster command. */
export async function setupCommand(clusterName: string, cmd: Command): Promise<CommandSetup> {
  const flags = cmd.optsWithGlobals() as ClusterFlags;
  const colour = wantColour(flags.color);
  const tty = Boolean(process.stderr.isTTY) && flags.output !== 'json' && !process.env.CI;
  const log = createLogger({ debug: flags.debug, colour });
  const config = await loadConfig(flags.config);
  const cluster = selectCluster(config, clusterName, flags.config);
  const base: ContextBase = {
    cluster,
    log,
    clients: createClients(cluster),
    flags: { kubeconfig: flags.kubeconfig, context: flags.context },
    dryRun: Boolean(flags.dryRun),
    yes: Boolean(flags.yes),
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  };
  return {
    cluster,
    index: config.clusters.indexOf(cluster),
    flags,
    log,
    tty,
    colour,
    base,
    run: { base, tty, debug: flags.debug, colour },
    session: (command, lock = !flags.dryRun) => ({
      cluster: cluster.name,
      log,
      command,
      kube: (state) => kubeAtState(base, state),
      lock,
      breakLock: flags.breakLock,
    }),
    context: (o = {}) => createStepContext({ ...base, ...o }),
  };
}

/** Writes a result to stdout: JSON with --output json, else the given lines. Masked either way. */
export function printResult(flags: { output?: string }, json: unknown, lines: () => string[]): void {
  if (flags.output === 'json') process.stdout.write(`${maskSecrets(JSON.stringify(json, null, 2))}\n`);
  else for (const l of lines()) process.stdout.write(`${maskSecrets(l)}\n`);
}
