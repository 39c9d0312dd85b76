/**
 * Step contexts for the Helm-based steps (istio, vault) against the lab: real helm (the lab's build), the
 * real kube-apiserver, charts from ../shared/fixtures/charts. Exec and kube are wrapped so tests can count
 * what a run did (helm upgrades, API reads and writes).
 */

import path from 'node:path';
import { createExec, type Exec } from '../../src/clients/exec.js';
import { connectKube, type KubeClient } from '../../src/clients/kube.js';
import { settleNamespace } from '../../src/clients/namespaces.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import type { Logger } from '../../src/log.js';
import { baseOf, createStepContext } from '../../src/runner/context.js';
import { runBootstrap } from '../../src/runner/pipeline.js';
import type { RunReport } from '../../src/runner/report.js';
import { withSession } from '../../src/runner/session.js';
import type { StepOutputs } from '../../src/state/types.js';
import type { Step, StepContext } from '../../src/step.js';
import type { LabEnv } from '../lab/env.js';
import { EBS_CHART, helmSections } from './config.js';
import { type CountingKube, countKube as countingKube } from './counting-kube.js';
import { labCluster as baseCluster, labRawCluster as baseRaw } from './lab-cluster.js';
import { memoryLogger } from './memory-logger.js';

export { EBS_CHART, ISTIO_CHARTS, VAULT_CHART } from './config.js';
/** Wraps a KubeClient with counters (test/helpers/counting-kube.ts). */
export { type CountingKube, countingKube };

/** An Exec that records every call (file and args) before running it. */
export interface RecordingExec extends Exec {
  readonly calls: { file: string; args: string[] }[];
  /** The helm sub-commands run ("upgrade", "status", …), in order. */
  helmVerbs(): string[];
}

/** Wraps an Exec so calls are recorded; `spy` sees each call before it runs. */
export function recordingExec(inner: Exec = createExec(), spy?: (file: string, args: readonly string[]) => void) {
  const calls: { file: string; args: string[] }[] = [];
  const exec: RecordingExec = {
    calls,
    helmVerbs: () => calls.filter((c) => path.basename(c.file) === 'helm').map((c) => c.args[0] ?? ''),
    run(file, args, opts) {
      calls.push({ file, args: [...args] });
      spy?.(file, args);
      return inner.run(file, args, opts);
    },
  };
  return exec;
}

/** The Istio and Vault sections the Helm steps' tests start from. */
const labHelmSections = (lab: LabEnv) => ({
  kubernetes: { version: '1.34', access: 'kubeconfig', kubeconfig: lab.kubeconfig, context: lab.kubeContext },
  ...helmSections(),
  storage: { chart: EBS_CHART, timeout: '2m' },
  vault: { ...helmSections().vault, timeout: '2m' },
});

/** A raw cluster entry pointing at the lab, with `extra` merged at the top level (istio, vault, images…). */
export function labRawCluster(lab: LabEnv, name: string, extra: Record<string, unknown> = {}) {
  return baseRaw(lab, name, { ...labHelmSections(lab), ...extra }) as ReturnType<typeof baseRaw> &
    ReturnType<typeof labHelmSections>;
}

/** A validated lab cluster config. */
export function labCluster(lab: LabEnv, name: string, extra: Record<string, unknown> = {}): ClusterConfig {
  return baseCluster(lab, name, { ...labHelmSections(lab), ...extra });
}

/** What {@link labContext} returns: a StepContext plus its recorders. */
export type LabContext = StepContext & {
  log: Logger & { lines: string[] };
  exec: RecordingExec;
  kubeClient: () => Promise<CountingKube>;
};

/** A StepContext against the lab; `outputs` stands in for earlier steps' recorded outputs. */
export function labContext(
  lab: LabEnv,
  cluster: ClusterConfig,
  opts: { outputs?: Record<string, StepOutputs>; deep?: boolean; dryRun?: boolean; exec?: RecordingExec } = {},
): LabContext {
  process.env.PLATCTL_HELM = lab.bins.helm;
  let kube: Promise<CountingKube> | undefined;
  const kubeClient = () => {
    kube ??= connectKube({ kubeconfig: lab.kubeconfig, context: lab.kubeContext }).then(countingKube);
    return kube;
  };
  const exec = opts.exec ?? recordingExec();
  const log = memoryLogger();
  const ctx = createStepContext({
    cluster,
    log,
    clients: { exec },
    kube: kubeClient,
    dryRun: opts.dryRun,
    yes: true,
    deep: opts.deep ?? true,
    outputs: opts.outputs,
    progress: () => {},
  });
  return { ...ctx, log, exec, kubeClient };
}

/**
 * Runs `step` once through the real runner as `bootstrap` of `ctx.cluster`, with `ctx`'s clients: state under
 * $PLATCTL_HOME (set by the test), the run lock held.
 */
export async function runStepOnce(ctx: LabContext, step: Step): Promise<RunReport> {
  const { cluster } = ctx;
  const session = { cluster: cluster.name, log: ctx.log, command: 'bootstrap', kube: ctx.kube, lock: true };
  return withSession(session, async (s) => {
    const { report } = await runBootstrap({
      steps: [step],
      base: { ...baseOf(ctx), dryRun: false },
      session: s,
      tty: false,
    });
    return report;
  });
}

/** Waits until namespace `name` is not being deleted (an earlier test file's teardown may still be running). */
export async function namespaceSettled(kube: KubeClient, name: string, ms = 90_000): Promise<void> {
  await settleNamespace(kube, name, { timeoutMs: ms });
}
