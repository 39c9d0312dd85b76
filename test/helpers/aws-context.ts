/**
 * Test helpers for the AWS steps (iam, kms, network, registry) against the lab: moto through AWS_ENDPOINT_URL,
 * the lab apiserver for kube. A hand-built step context whose `ctx.aws.counts` counts every call, a separate
 * uncounted client factory for assertions, and a middleware that measures how many calls are in flight.
 */
import { type AwsClients, createAwsClients } from '../../src/clients/aws.js';
import type { KubeClient } from '../../src/clients/kube.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { createStepContext } from '../../src/runner/context.js';
import type { StepOutputs } from '../../src/state/types.js';
import type { StepContext } from '../../src/step.js';
import { type LabEnv, labProcessEnv } from '../lab/env.js';
import { countKube } from './counting-kube.js';
import { labCluster } from './lab-cluster.js';
import { memoryLogger } from './memory-logger.js';

export { MOTO_ACCOUNT, uniqueName as uniqueCluster } from './lab-cluster.js';

/** Points this process's AWS SDK at the lab's moto (endpoint, region, dummy credentials). */
export function useLabAws(env: LabEnv): void {
  const vars = labProcessEnv(env);
  for (const k of [
    'AWS_ENDPOINT_URL',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_EC2_METADATA_DISABLED',
  ])
    process.env[k] = vars[k];
  delete process.env.AWS_PROFILE;
}

/** A validated cluster config aimed at the lab (moto's account, the lab kubeconfig). */
export function awsCluster(env: LabEnv, name: string, extra: Record<string, unknown> = {}): ClusterConfig {
  return labCluster(env, name, extra);
}

/** A step context plus the handles tests assert on. */
export interface AwsTestContext {
  ctx: StepContext;
  aws: AwsClients;
  lines: string[];
  /** Outputs other steps "recorded"; tests set them as the engine would. */
  outputs: Record<string, StepOutputs>;
}

/** Builds a step context over fresh, counting AWS clients. */
export function awsContext(
  cluster: ClusterConfig,
  o: { outputs?: Record<string, StepOutputs>; deep?: boolean; kube?: () => Promise<KubeClient> } = {},
): AwsTestContext {
  const aws = createAwsClients({ region: cluster.aws.region });
  const log = memoryLogger();
  const outputs = o.outputs ?? {};
  const ctx = createStepContext({
    cluster,
    log,
    clients: { aws },
    kube: o.kube,
    yes: true,
    deep: o.deep ?? true,
    outputs,
    progress: () => {},
  });
  return { ctx, aws, lines: log.lines, outputs };
}

/** The same context with `deep` switched (fresh counts are NOT implied: the clients are shared). */
export const withDeep = (t: AwsTestContext, deep: boolean): StepContext => ({ ...t.ctx, deep });

interface Stack {
  middlewareStack: { add(mw: unknown, opts: { step: string; name: string }): void };
}

/**
 * Counts in-flight calls whose operation matches `op` on an SDK client: timing-free evidence that calls run
 * concurrently (max > 1) or serially (max = 1).
 */
export function inFlight(client: unknown, op: RegExp): { max: () => number; total: () => number } {
  let now = 0;
  let max = 0;
  let total = 0;
  (client as Stack).middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      if (!op.test(context.commandName ?? '')) return next(args);
      now++;
      total++;
      max = Math.max(max, now);
      try {
        return await next(args);
      } finally {
        now--;
      }
    },
    { step: 'initialize', name: `inFlight${Math.random()}` },
  );
  return { max: () => max, total: () => total };
}

/** Wraps a kube client counting reads (get/list) and writes (everything else). */
export function countingKube(inner: KubeClient): { kube: KubeClient; reads: () => number; writes: () => number } {
  const kube = countKube(inner);
  return { kube, reads: () => kube.counts.reads, writes: () => kube.counts.writes };
}

/**
 * Makes an SDK client throw `error` for one command, the first `times` calls (every call by default): e.g. an
 * AccessDenied moto does not enforce in the lab, or IAM's propagation delay that moto does not have.
 */
export function failCommand(
  client: unknown,
  commandName: string,
  error: unknown,
  times = Number.POSITIVE_INFINITY,
): void {
  let failed = 0;
  (client as Stack).middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      if (context.commandName === commandName && failed < times) {
        failed++;
        throw error;
      }
      return next(args);
    },
    { step: 'initialize', name: `fail${commandName}${Math.random()}` },
  );
}
