/**
 * Test helpers for the cloud steps (cluster, access, access-entries): a lab-aimed cluster config, a hand-built
 * step context with counting AWS clients and recorded log/progress lines, and a temp PLATCTL_HOME so
 * per-cluster files (the terraform working dir) never land in the real ~/.platctl.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AwsClients, createAwsClients } from '../../src/clients/aws.js';
import type { Exec } from '../../src/clients/exec.js';
import type { KubeClient } from '../../src/clients/kube.js';
import type { KubeTarget } from '../../src/clients/kube-target.js';
import type { Prompter } from '../../src/clients/prompt.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { packageRoot } from '../../src/paths.js';
import { createStepContext } from '../../src/runner/context.js';
import type { StepOutputs } from '../../src/state/types.js';
import type { StepContext } from '../../src/step.js';
import { type LabEnv, labProcessEnv } from '../lab/env.js';
import { labCluster as baseCluster } from './lab-cluster.js';
import { memoryLogger } from './memory-logger.js';

/** The lab's stand-in terraform module. */
export const LAB_MODULE = path.join(packageRoot, 'examples', 'lab', 'terraform');

export { uniqueName } from './lab-cluster.js';

/**
 * Points this process at the lab: AWS SDK at moto, PATH with the lab's tofu, and a fresh temp PLATCTL_HOME.
 * Returns that home.
 */
export function useLab(env: LabEnv): string {
  const vars = labProcessEnv(env);
  for (const [k, v] of Object.entries(vars)) if (k !== 'KUBECONFIG') process.env[k] = v;
  delete process.env.AWS_PROFILE;
  const home = mkdtempSync(path.join(tmpdir(), 'platctl-cloud-'));
  process.env.PLATCTL_HOME = home;
  return home;
}

/** A validated cluster config aimed at the lab: moto's account, the lab module, tofu, the lab kubeconfig. */
export function labCluster(env: LabEnv, name: string, extra: Record<string, unknown> = {}): ClusterConfig {
  return baseCluster(env, name, {
    terraform: { binary: 'tofu', module: LAB_MODULE, vpcCidr: '10.42.0.0/16' },
    ...extra,
  });
}

/** A step context plus what tests assert on. */
export interface CloudTestContext {
  ctx: StepContext;
  aws: AwsClients;
  lines: string[];
  progress: string[];
  /** Outputs "recorded" by steps; tests set them as the engine would. */
  outputs: Record<string, StepOutputs>;
}

/** Options for {@link cloudContext}. */
export interface CloudContextOptions {
  deep?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  prompt?: Prompter;
  exec?: Exec;
  aws?: AwsClients;
  outputs?: Record<string, StepOutputs>;
  kube?: () => Promise<KubeClient>;
  /** --kubeconfig / --context. */
  flags?: KubeTarget;
}

/** Builds a step context over fresh counting AWS clients (unless given) and the lab kubeconfig. */
export function cloudContext(cluster: ClusterConfig, o: CloudContextOptions = {}): CloudTestContext {
  const aws = o.aws ?? createAwsClients({ region: cluster.aws.region });
  const log = memoryLogger();
  const outputs = o.outputs ?? {};
  const progress: string[] = [];
  const yes = o.yes ?? true;
  const ctx = createStepContext({
    cluster,
    log,
    clients: { aws, exec: o.exec },
    kube: o.kube,
    flags: o.flags,
    prompt: o.prompt,
    dryRun: o.dryRun,
    yes,
    deep: o.deep ?? true,
    outputs,
    progress: (m) => progress.push(m),
  });
  return { ctx, aws, lines: log.lines, progress, outputs };
}

/** A prompter that answers every confirmation with `answer` and records the questions. */
export function answering(answer: boolean): Prompter & { asked: string[] } {
  const asked: string[] = [];
  return {
    interactive: true,
    asked,
    async confirm(message) {
      asked.push(message);
      return answer;
    },
    async input() {
      throw new Error('no input expected');
    },
    async secret() {
      throw new Error('no secret expected');
    },
  };
}

/** Stops the lock-holding tofu (started by a test): EOF on stdin, SIGKILL if it lingers; waits for the exit. */
export async function stopHolder(holder: ChildProcess | undefined): Promise<void> {
  if (!holder?.pid || holder.exitCode !== null || holder.signalCode !== null) return;
  const exited = new Promise((r) => holder.once('exit', r));
  holder.stdin?.end();
  const timer = setTimeout(() => holder.pid && process.kill(holder.pid, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
