/**
 * The tiny runner: bootstrap walks the ordered steps (check → apply only what is missing → record), teardown
 * walks them in exactly the reverse order (destroy what state says was applied), between its phases. State is
 * written before moving on: a step is marked running before apply and done/failed after, so a killed run
 * resumes; a phase is recorded the same way (src/runner/phase.ts).
 */

import { setWaitReporter } from '../clients/waiting.js';
import { describeError, errorDoc, isPlatctlError } from '../errors.js';
import { maskSecrets } from '../secrets.js';
import type { State, StepOutputs } from '../state/types.js';
import type { Step, StepContext } from '../step.js';
import { crashPoint, pausePoint } from '../test-seams.js';
import { type ContextBase, createStepContext } from './context.js';
import { type DriveTask, drive, type TaskIo } from './drive.js';
import type { Phase } from './phase.js';
import { ReadAhead } from './read-ahead.js';
import { type Mark, mark, storedError } from './record.js';
import type { RunReport, StepReport } from './report.js';
import { hashInputs } from './select.js';
import type { StateSession } from './session.js';

/** Options for a pipeline run. The run's state is the session's: read at open, updated by every record. */
export interface PipelineOptions {
  steps: readonly Step[];
  /** Teardown's phases (each says whether it runs before or after the steps' destroys). */
  phases?: readonly Phase[];
  /** What every step context shares; the runner adds the per-task parts (logger, progress, prompts, deep). */
  base: ContextBase;
  session: StateSession;
  verify?: boolean;
  tty: boolean;
  debug?: boolean;
  colour?: boolean;
}

function errorReport(err: unknown): RunReport['error'] {
  return isPlatctlError(err)
    ? { code: err.code, message: maskSecrets(err.message), hint: err.hint, docs: errorDoc(err.code) }
    : { code: 'STEP_FAILED', message: maskSecrets(describeError(err)), docs: errorDoc('STEP_FAILED') };
}

class Run {
  firstError?: unknown;
  /** What each phase handed back for the command to print. */
  readonly data: Record<string, unknown> = {};
  /** Bootstrap's checks read ahead (not under --verify, whose checks are deep); see read-ahead.ts. */
  private readonly ahead?: ReadAhead;
  /** Where the read-ahead starts: after the last step that moves state (and so settles the kube target). */
  private readonly aheadFrom: number;

  constructor(private readonly o: PipelineOptions) {
    this.aheadFrom = o.steps.map((s) => Boolean(s.movesStateToCluster)).lastIndexOf(true) + 1;
    if (!o.verify) {
      this.ahead = new ReadAhead(
        (id) => this.state.steps[id],
        (io) =>
          createStepContext({
            ...o.base,
            ...io,
            interactive: false,
            deep: false,
            outputs: (id) => this.state.steps[id]?.outputs ?? {},
          }),
      );
    }
  }

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

  mark(m: Mark): Promise<void> {
    return mark(this.o.session, m);
  }

  async fail(m: Omit<Mark, 'result'>, title: string, err: unknown, started: number): Promise<StepReport> {
    this.firstError ??= err;
    const message = maskSecrets(describeError(err));
    const durationMs = Date.now() - started;
    if (!this.o.base.dryRun) {
      // A failure to record the failure must not hide it: the report carries it either way.
      const patch = { error: storedError(message) };
      await this.mark({ ...m, result: 'failed', patch, ms: durationMs }).catch(() => undefined);
    }
    return { id: m.id, title, result: 'failed', detail: message, durationMs };
  }

  async bootstrapStep(step: Step, io: TaskIo): Promise<StepReport> {
    const started = Date.now();
    const base = { id: step.id, title: step.title };
    const at = { kind: 'steps', id: step.id, action: 'apply' } as const;
    try {
      const rec = this.state.steps[step.id];
      const inputsHash = hashInputs(step.inputs(this.ctx(io, false)));
      const deep = Boolean(this.o.verify) || rec?.status !== 'done' || rec.inputsHash !== inputsHash;
      const ctx = this.ctx(io, deep);
      const index = this.o.steps.indexOf(step);
      if (!deep && index === this.aheadFrom) this.ahead?.start(this.o.steps.slice(index));
      const check = await ((!deep && this.ahead?.take(step.id, io)) || this.checkNow(step, ctx));
      let result: StepReport;
      if (check.status === 'up-to-date') {
        const outputs: StepOutputs = { ...(rec?.outputs ?? {}), ...(check.outputs ?? {}) };
        const changed =
          rec?.status !== 'done' ||
          rec.inputsHash !== inputsHash ||
          JSON.stringify(outputs) !== JSON.stringify(rec.outputs);
        if (changed) this.ahead?.drop();
        if (changed && !ctx.dryRun) await this.mark({ ...at, result: 'up-to-date', patch: { inputsHash, outputs } });
        const durationMs = Date.now() - started;
        result = { ...base, result: 'up-to-date', detail: check.detail, durationMs, outputs, check: check.status };
      } else if (ctx.dryRun) {
        this.ahead?.drop();
        const durationMs = Date.now() - started;
        const { detail, changes, status } = check;
        result = { ...base, result: 'would-apply', detail, changes, durationMs, check: status };
      } else {
        this.ahead?.drop();
        io.log.action(check.detail);
        await this.mark({ ...at, result: 'started', patch: { inputsHash } });
        crashPoint(step.id, 'start');
        const outputs = (await step.apply(ctx)) ?? {};
        crashPoint(step.id, 'end');
        const ms = Date.now() - started;
        await this.mark({ ...at, result: 'done', patch: { inputsHash, outputs }, ms });
        result = { ...base, result: 'applied', detail: check.detail, durationMs: ms, outputs, check: check.status };
      }
      if (step.movesStateToCluster && !ctx.dryRun) await this.o.session.moveToCluster(this.state);
      return result;
    } catch (err) {
      this.ahead?.drop();
      return this.fail(at, step.title, err, started);
    }
  }

  /** The step's check, made now (after the test seam that can hold a run there). */
  private async checkNow(step: Step, ctx: StepContext) {
    await pausePoint(step.id, 'check');
    return step.check(ctx);
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
    const at = { kind: 'steps', id: step.id, action: 'destroy' } as const;
    try {
      if (step.movesStateToCluster) await this.o.session.moveToLocal();
      await this.mark({ ...at, result: 'started' });
      crashPoint(step.id, 'destroy-start');
      await step.destroy(this.ctx(io, true));
      crashPoint(step.id, 'destroy-end');
      const ms = Date.now() - started;
      await this.mark({ ...at, result: 'done', patch: { outputs: {} }, ms });
      return { ...base, result: 'destroyed', detail: '', durationMs: ms };
    } catch (err) {
      return this.fail(at, step.title, err, started);
    }
  }

  async phase(phase: Phase, io: TaskIo, action: Mark['action']): Promise<StepReport> {
    const base = { id: phase.id, title: phase.title };
    const dryRun = Boolean(this.o.base.dryRun);
    const skip = phase.skip?.({ state: this.state, dryRun });
    if (skip) return { ...base, result: 'skipped', detail: skip, durationMs: 0 };
    const started = Date.now();
    const at = { kind: 'phases', id: phase.id, action } as const;
    try {
      if (!dryRun) await this.mark({ ...at, result: 'started' });
      crashPoint(phase.id, 'start');
      const ctx = {
        ...this.ctx(io, true),
        state: () => this.state,
        updateState: (m: (s: State) => void) => this.o.session.update(m),
      };
      const r = await phase.run(ctx);
      if (r.data !== undefined) this.data[phase.id] = r.data;
      if (r.failure !== undefined) return this.fail(at, phase.title, r.failure, started);
      crashPoint(phase.id, 'end');
      const ms = Date.now() - started;
      if (!dryRun)
        await this.mark({ ...at, result: 'done', ms, ...(r.outputs ? { patch: { outputs: r.outputs } } : {}) });
      return { ...base, result: 'done', detail: r.detail, durationMs: ms };
    } catch (err) {
      return this.fail(at, phase.title, err, started);
    }
  }
}

/** What a run returns: the report (printed, JSON with --output json) and the first failure as thrown. */
export interface RunOutcome {
  report: RunReport;
  /** The failing step's error itself: its exit code, its hint, and its stack under --debug. */
  failure?: unknown;
  /** What each phase that ran handed back, by phase id (the teardown's preparation, the orphan report). */
  phases: Record<string, unknown>;
}

type Task = { step: Step; phase?: never } | { phase: Phase; step?: never };

async function execute(
  command: RunReport['command'],
  o: PipelineOptions,
  order: readonly Task[],
  keepGoing = false,
): Promise<RunOutcome> {
  const run = new Run(o);
  const teardown = command === 'teardown';
  const action = teardown ? 'destroy' : 'apply';
  const tasks: DriveTask[] = order.map(({ step, phase }) => {
    if (phase) return { id: phase.id, title: phase.title, run: (io) => run.phase(phase, io, action) };
    return {
      id: step.id,
      title: step.title,
      run: (io) => (teardown ? run.teardownStep(step, io) : run.bootstrapStep(step, io)),
    };
  });
  const reports = await drive(tasks, { tty: o.tty, log: o.base.log, debug: o.debug, colour: o.colour, keepGoing });
  for (const t of tasks.slice(reports.length)) {
    reports.push({ id: t.id, title: t.title, result: 'not-reached', detail: '', durationMs: 0 });
  }
  const isPhase = new Set(order.flatMap((t) => (t.phase ? [t.phase.id] : [])));
  const ok = !reports.some((r) => r.result === 'failed');
  const report: RunReport = {
    command,
    cluster: o.base.cluster.name,
    dryRun: Boolean(o.base.dryRun),
    ok,
    steps: reports.filter((r) => !isPhase.has(r.id)),
    ...(isPhase.size > 0 ? { phases: reports.filter((r) => isPhase.has(r.id)) } : {}),
    ...(ok ? {} : { error: errorReport(run.firstError) }),
  };
  return { report, phases: run.data, ...(ok ? {} : { failure: run.firstError }) };
}

/** Runs steps in order. */
export function runBootstrap(o: PipelineOptions): Promise<RunOutcome> {
  return execute(
    'bootstrap',
    o,
    o.steps.map((step) => ({ step })),
  );
}

/** Runs the phases before, the destroy of every applied step in exactly the reverse order, then the phases after. */
export function runTeardown(o: PipelineOptions): Promise<RunOutcome> {
  const phases = o.phases ?? [];
  return execute('teardown', o, [
    ...phases.filter((p) => p.when !== 'after').map((phase) => ({ phase })),
    ...[...o.steps].reverse().map((step) => ({ step })),
    ...phases.filter((p) => p.when === 'after').map((phase) => ({ phase })),
  ]);
}

/**
 * Runs every step's check the way bootstrap does (inputs, then the deep check), as a dry run that writes
 * nothing, and goes on past a failing check so every failure is reported together (`status --verify`).
 */
export function runChecks(o: Omit<PipelineOptions, 'verify'>): Promise<RunOutcome> {
  const base = { ...o.base, dryRun: true, yes: false, interactive: false };
  return execute(
    'status',
    { ...o, base, verify: true },
    o.steps.map((step) => ({ step })),
    true,
  );
}

/** Runs day-2 phases (istio upgrade) through the same recording, in order. */
export function runPhases(command: RunReport['command'], o: Omit<PipelineOptions, 'steps'>): Promise<RunOutcome> {
  return execute(
    command,
    { ...o, steps: [] },
    (o.phases ?? []).map((phase) => ({ phase })),
  );
}
