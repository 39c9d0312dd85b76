/**
 * The tiny runner: bootstrap walks the ordered steps (check → apply only what is missing → record), teardown
 * walks them in exactly the reverse order (destroy what state says was applied). State is written before
 * moving on: a step is marked running before apply and done/failed after, so a killed run resumes.
 */

import { setWaitReporter } from '../clients/waiting.js';
import { describeError, isPlatctlError } from '../errors.js';
import { whoAmI } from '../paths.js';
import { maskSecrets } from '../secrets.js';
import { type HistoryEntry, pushHistory, type State, type StepOutputs, type StepState } from '../state/types.js';
import type { Step, StepContext } from '../step.js';
import { type ContextBase, createStepContext } from './context.js';
import { crashPoint } from './crash.js';
import { type DriveTask, drive, type TaskIo } from './drive.js';
import type { RunReport, StepReport } from './report.js';
import { hashInputs } from './select.js';
import type { StateSession } from './session.js';

/** Options for a pipeline run. The run's state is the session's: read at open, updated by every record. */
export interface PipelineOptions {
  steps: readonly Step[];
  /** What every step context shares; the runner adds the per-task parts (logger, progress, prompts, deep). */
  base: ContextBase;
  session: StateSession;
  verify?: boolean;
  tty: boolean;
  debug?: boolean;
  colour?: boolean;
}

const now = () => new Date().toISOString();
/** Longest error text kept in state (step record and history); the run report keeps it whole. */
const MAX_ERROR = 1000;

function errorReport(err: unknown): RunReport['error'] {
  return isPlatctlError(err)
    ? { code: err.code, message: maskSecrets(err.message), hint: err.hint }
    : { code: 'STEP_FAILED', message: maskSecrets(describeError(err)) };
}

class Run {
  firstError?: unknown;
  constructor(private readonly o: PipelineOptions) {}

  get state(): State {
    return this.o.session.state;
  }

  ctx(io: TaskIo, deep: boolean): StepContext {
    // A call that waits says so under the step running it (steps run one at a time).
    setWaitReporter(io.progress);
    return createStepContext({
      ...this.o.base,
      log: io.log,
      deep,
      progress: io.progress,
      promptRunner: io.promptRunner,
      outputs: (id) => this.state.steps[id]?.outputs ?? {},
    });
  }

  /**
   * Records a step's progress in one state write: its record (status, times, by) and the matching history
   * entry. `patch` adds the rest of the record (inputs hash, outputs, error).
   */
  async mark(
    step: Step,
    action: 'apply' | 'destroy',
    result: HistoryEntry['result'],
    patch: Partial<StepState> = {},
    ms?: number,
  ): Promise<void> {
    const at = now();
    const by = whoAmI();
    const status: StepState['status'] =
      result === 'failed'
        ? 'failed'
        : result === 'started'
          ? action === 'apply'
            ? 'running'
            : 'destroying'
          : action === 'apply'
            ? 'done'
            : 'destroyed';
    const times = result === 'started' ? { startedAt: at } : { finishedAt: at };
    await this.o.session.update((s) => {
      s.steps[step.id] = { outputs: {}, ...s.steps[step.id], ...patch, ...times, status, by };
      if (patch.error === undefined) delete s.steps[step.id]?.error;
      pushHistory(s, {
        at,
        step: step.id,
        action,
        result,
        by,
        ...(ms === undefined ? {} : { ms }),
        ...(patch.error === undefined ? {} : { error: patch.error }),
      });
    });
  }

  async fail(step: Step, err: unknown, started: number, action: 'apply' | 'destroy'): Promise<StepReport> {
    this.firstError ??= err;
    const message = maskSecrets(describeError(err));
    // State keeps a bounded copy (mask first, so a cut never splits a secret past the masker).
    const error =
      message.length > MAX_ERROR
        ? `${message.slice(0, MAX_ERROR)}… (${message.length - MAX_ERROR} more characters)`
        : message;
    const durationMs = Date.now() - started;
    if (!this.o.base.dryRun) {
      // A failure to record the failure must not hide it: the report carries it either way.
      await this.mark(step, action, 'failed', { error }, durationMs).catch(() => undefined);
    }
    return { id: step.id, title: step.title, result: 'failed', detail: message, durationMs };
  }

  async bootstrapStep(step: Step, io: TaskIo): Promise<StepReport> {
    const started = Date.now();
    const base = { id: step.id, title: step.title };
    try {
      const rec = this.state.steps[step.id];
      const inputsHash = hashInputs(step.inputs(this.ctx(io, false)));
      const deep = Boolean(this.o.verify) || rec?.status !== 'done' || rec.inputsHash !== inputsHash;
      const ctx = this.ctx(io, deep);
      const check = await step.check(ctx);
      let result: StepReport;
      if (check.status === 'up-to-date') {
        const outputs: StepOutputs = { ...(rec?.outputs ?? {}), ...(check.outputs ?? {}) };
        const changed =
          rec?.status !== 'done' ||
          rec.inputsHash !== inputsHash ||
          JSON.stringify(outputs) !== JSON.stringify(rec.outputs);
        if (changed && !ctx.dryRun) await this.mark(step, 'apply', 'up-to-date', { inputsHash, outputs });
        result = { ...base, result: 'up-to-date', detail: check.detail, durationMs: Date.now() - started, outputs };
      } else if (ctx.dryRun) {
        const durationMs = Date.now() - started;
        result = { ...base, result: 'would-apply', detail: check.detail, changes: check.changes, durationMs };
      } else {
        io.log.action(check.detail);
        await this.mark(step, 'apply', 'started', { inputsHash });
        crashPoint(step.id, 'start');
        const outputs = (await step.apply(ctx)) ?? {};
        crashPoint(step.id, 'end');
        const ms = Date.now() - started;
        await this.mark(step, 'apply', 'done', { inputsHash, outputs }, ms);
        result = { ...base, result: 'applied', detail: check.detail, durationMs: ms, outputs };
      }
      if (step.movesStateToCluster && !ctx.dryRun) await this.o.session.moveToCluster(this.state);
      return result;
    } catch (err) {
      return this.fail(step, err, started, 'apply');
    }
  }

  async teardownStep(step: Step, io: TaskIo): Promise<StepReport> {
    const base = { id: step.id, title: step.title };
    const rec = this.state.steps[step.id];
    if (!rec || rec.status === 'pending' || rec.status === 'destroyed') {
      return { ...base, result: 'not-applied', detail: '', durationMs: 0 };
    }
    if (this.o.base.dryRun) {
      return { ...base, result: 'would-destroy', detail: `destroy what ${step.id} made`, durationMs: 0 };
    }
    const started = Date.now();
    try {
      if (step.movesStateToCluster) await this.o.session.moveToLocal();
      await this.mark(step, 'destroy', 'started');
      crashPoint(step.id, 'destroy-start');
      await step.destroy(this.ctx(io, true));
      crashPoint(step.id, 'destroy-end');
      const ms = Date.now() - started;
      await this.mark(step, 'destroy', 'done', { outputs: {} }, ms);
      return { ...base, result: 'destroyed', detail: '', durationMs: ms };
    } catch (err) {
      return this.fail(step, err, started, 'destroy');
    }
  }
}

/** What a run returns: the report (printed, JSON with --output json) and the first failure as thrown. */
export interface RunOutcome {
  report: RunReport;
  /** The failing step's error itself: its exit code, its hint, and its stack under --debug. */
  failure?: unknown;
}

async function execute(command: RunReport['command'], o: PipelineOptions, order: readonly Step[]): Promise<RunOutcome> {
  const run = new Run(o);
  const tasks: DriveTask[] = order.map((step) => ({
    id: step.id,
    title: step.title,
    run: (io) => (command === 'bootstrap' ? run.bootstrapStep(step, io) : run.teardownStep(step, io)),
  }));
  const reports = await drive(tasks, { tty: o.tty, log: o.base.log, debug: o.debug, colour: o.colour });
  for (const step of order.slice(reports.length)) {
    reports.push({ id: step.id, title: step.title, result: 'not-reached', detail: '', durationMs: 0 });
  }
  const ok = !reports.some((r) => r.result === 'failed');
  const report: RunReport = {
    command,
    cluster: o.base.cluster.name,
    dryRun: Boolean(o.base.dryRun),
    ok,
    steps: reports,
    ...(ok ? {} : { error: errorReport(run.firstError) }),
  };
  return ok ? { report } : { report, failure: run.firstError };
}

/** Runs steps in order. */
export function runBootstrap(o: PipelineOptions): Promise<RunOutcome> {
  return execute('bootstrap', o, o.steps);
}

/** Runs the destroy of every applied step, in exactly the reverse order. */
export function runTeardown(o: PipelineOptions): Promise<RunOutcome> {
  return execute('teardown', o, [...o.steps].reverse());
}
