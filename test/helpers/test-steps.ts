/**
 * Configurable fake steps for the runner's unit tests. Each fake models one resource in a tiny "world": check
 * says up-to-date once apply made it (and absent after destroy), apply and destroy can be made to throw, and
 * every call is recorded in a shared {@link Recorder} with the flags the runner passed (deep, dryRun).
 * Behaviour is changed between runs by assigning the mutable fields.
 */
import type { KubeClient } from '../../src/clients/kube.js';
import type { Logger } from '../../src/log.js';
import { createClients } from '../../src/runner/clients.js';
import type { ContextBase } from '../../src/runner/context.js';
import type { Phase } from '../../src/runner/phase.js';
import { runBootstrap, runTeardown } from '../../src/runner/pipeline.js';
import type { RunReport } from '../../src/runner/report.js';
import { withSession } from '../../src/runner/session.js';
import type { StepOutputs } from '../../src/state/types.js';
import type { CheckResult, CheckStatus, Step, StepContext } from '../../src/step.js';
import { clusterConfig } from './config.js';
import { memoryLogger } from './memory-logger.js';

/** One recorded call. */
export interface StepCall {
  step: string;
  op: 'inputs' | 'check' | 'apply' | 'destroy';
  deep: boolean;
  dryRun: boolean;
}

/** Shared record of calls across a list of fake steps. */
export interface Recorder {
  readonly calls: StepCall[];
  /** Ids of the steps that received `op`, in call order. */
  of(op: StepCall['op']): string[];
  clear(): void;
}

/** Creates an empty {@link Recorder}. */
export function recorder(): Recorder {
  const calls: StepCall[] = [];
  return {
    calls,
    of: (op) => calls.filter((c) => c.op === op).map((c) => c.step),
    clear: () => {
      calls.length = 0;
    },
  };
}

/** A fake step with its world and knobs exposed. */
export interface FakeStep extends Step {
  /** Whether the resource this step manages exists. */
  present: boolean;
  /** Returned by inputs(); change it to change the inputs hash. */
  input: unknown;
  /** Returned by apply(). */
  applyOutputs: StepOutputs | undefined;
  /** Forces check's answer (otherwise derived from `present`). */
  forceStatus?: CheckStatus;
  /** Thrown by check while set. */
  checkError?: unknown;
  /** Thrown by apply (before the resource is made) while set. */
  applyError?: unknown;
  /** Thrown by destroy while set. */
  destroyError?: unknown;
  /** Runs inside apply / destroy, after the error knobs, with the runner's context. */
  onApply?: (ctx: StepContext) => void | Promise<void>;
  onDestroy?: (ctx: StepContext) => void | Promise<void>;
}

/** Options for {@link fakeStep}. */
export type FakeStepOptions = Partial<
  Pick<FakeStep, 'present' | 'input' | 'applyOutputs' | 'forceStatus' | 'applyError' | 'destroyError'>
> & {
  movesStateToCluster?: boolean;
  onApply?: FakeStep['onApply'];
  onDestroy?: FakeStep['onDestroy'];
};

/** Creates a fake step recording into `rec`. */
export function fakeStep(rec: Recorder, id: string, opts: FakeStepOptions = {}): FakeStep {
  const log = (op: StepCall['op'], ctx: StepContext) =>
    rec.calls.push({ step: id, op, deep: ctx.deep, dryRun: ctx.dryRun });
  const step: FakeStep = {
    id,
    title: `fake step ${id}`,
    present: opts.present ?? false,
    input: opts.input ?? { id },
    applyOutputs: opts.applyOutputs ?? { made: `${id}-resource` },
    forceStatus: opts.forceStatus,
    applyError: opts.applyError,
    destroyError: opts.destroyError,
    onApply: opts.onApply,
    onDestroy: opts.onDestroy,
    movesStateToCluster: opts.movesStateToCluster,
    inputs(ctx) {
      log('inputs', ctx);
      return step.input;
    },
    async check(ctx): Promise<CheckResult> {
      log('check', ctx);
      if (step.checkError !== undefined) throw step.checkError;
      const status = step.forceStatus ?? (step.present ? 'up-to-date' : 'absent');
      return {
        status,
        detail: status === 'up-to-date' ? `${id} up to date` : `${id} to create`,
        changes: status === 'up-to-date' ? [] : [`+ ${id}`],
      };
    },
    async apply(ctx) {
      log('apply', ctx);
      if (step.applyError !== undefined) throw step.applyError;
      await step.onApply?.(ctx);
      step.present = true;
      return step.applyOutputs;
    },
    async destroy(ctx) {
      log('destroy', ctx);
      if (step.destroyError !== undefined) throw step.destroyError;
      await step.onDestroy?.(ctx);
      step.present = false;
    },
  };
  return step;
}

/** Fake steps named `ids`, in order, sharing one recorder. */
export function fakeSteps(ids: string[], opts: FakeStepOptions = {}): { rec: Recorder; steps: FakeStep[] } {
  const rec = recorder();
  return { rec, steps: ids.map((id) => fakeStep(rec, id, opts)) };
}

/** Options for {@link runSteps}. */
export interface RunStepsOptions {
  cluster?: string;
  dryRun?: boolean;
  verify?: boolean;
  /** The cluster's API for the session and the steps (default: one that fails if used). */
  kube?: KubeClient;
  log?: Logger & { lines: string[] };
  /** Teardown's phases (runTeardown only). */
  phases?: readonly Phase[];
}

/** The runner's base context for fake steps: no TTY, --yes, memory logger. */
export function runnerBase(o: RunStepsOptions & { log: Logger }): ContextBase {
  const cluster = clusterConfig(o.cluster ?? 'demo');
  return {
    cluster,
    log: o.log,
    clients: createClients(cluster, { kubeAt: kubeOf(o.kube) }),
    dryRun: Boolean(o.dryRun),
    yes: true,
    interactive: false,
  };
}

const kubeOf = (kube?: KubeClient) => async () => {
  if (!kube) throw new Error('this test gave the run no cluster');
  return kube;
};

/**
 * Opens a real {@link StateSession} (journal under $PLATCTL_HOME, file lock unless dry-run) the way
 * `platctl bootstrap|teardown` does, runs the pipeline without a TTY, and closes the session.
 */
export async function runSteps(
  command: 'bootstrap' | 'teardown',
  steps: readonly Step[],
  o: RunStepsOptions = {},
): Promise<RunReport & { log: string[]; data: Record<string, unknown> }> {
  const log = o.log ?? memoryLogger();
  const session = { cluster: o.cluster ?? 'demo', log, command, kube: kubeOf(o.kube), lock: !o.dryRun };
  return withSession(session, async (s) => {
    const run = command === 'bootstrap' ? runBootstrap : runTeardown;
    const base = runnerBase({ ...o, log });
    const outcome = await run({ steps, phases: o.phases, base, session: s, tty: false, verify: o.verify });
    return { ...outcome.report, log: log.lines, data: outcome.phases };
  });
}
