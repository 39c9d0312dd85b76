/**
 * Checks read ahead. On a re-run most steps are up to date, and each cheap check is a read or two that the runner
 * used to wait for one after another: 12 round trips to AWS and the cluster on a no-op. From the point where the
 * kube target is settled (after the step that moves state into the cluster), the cheap checks of the steps that
 * state records done, with unchanged inputs, are started together, and each step takes its own result in turn.
 *
 * A result is used only while every step before it in this run was up to date with its recorded outputs
 * unchanged: each later check was made with those outputs, so it is the check the step would make now. Once a
 * step applies or changes its outputs, every result still ahead is dropped, and those steps check again when
 * they come (their reads were only reads). Lines a check logs while ahead, its wait notices included, are held
 * and shown under its own task when it is taken.
 */

import { withWaitReporter } from '../clients/waiting.js';
import { type Logger, type LogVerb, loggerOf } from '../log.js';
import type { StepState } from '../state/types.js';
import type { CheckResult, Step, StepContext } from '../step.js';
import { pausePoint } from '../test-seams.js';
import type { TaskIo } from './drive.js';
import { hashInputs } from './select.js';

type Line = { verb: LogVerb; msg: string } | { progress: string };
type Settled = { ok: true; value: CheckResult } | { ok: false; error: unknown };

/** Where a check's lines go: held until the step takes its result, then straight to the step's task. */
class HeldIo {
  private readonly held: Line[] = [];
  private io?: TaskIo;
  readonly log: Logger;

  constructor() {
    const emit = (verb: LogVerb) => (msg: string) => (this.io ? this.io.log[verb](msg) : this.held.push({ verb, msg }));
    this.log = loggerOf(emit);
  }

  progress = (msg: string) => (this.io ? this.io.progress(msg) : this.held.push({ progress: msg }));

  /** Shows what was held under `io`, and sends what comes later there too. */
  attach(io: TaskIo): void {
    this.io = io;
    for (const l of this.held.splice(0)) 'progress' in l ? io.progress(l.progress) : io.log[l.verb](l.msg);
  }
}

/** How the read-ahead makes a cheap check's context (no prompts: a check never asks). */
export type AheadContext = (io: Pick<TaskIo, 'log' | 'progress'>) => StepContext;

/** The checks read ahead for one run. */
export class ReadAhead {
  private readonly ahead = new Map<string, { io: HeldIo; result: Promise<Settled> }>();
  private started = false;

  constructor(
    private readonly record: (stepId: string) => StepState | undefined,
    private readonly context: AheadContext,
  ) {}

  /**
   * Starts the cheap checks of `steps`, in order, up to the first one that state does not record done with these
   * inputs (that one has work, and what comes after it may see new outputs). Starts once per run.
   */
  start(steps: readonly Step[]): void {
    if (this.started) return;
    this.started = true;
    for (const step of steps) {
      const io = new HeldIo();
      const ctx = this.context({ log: io.log, progress: io.progress });
      if (!this.unchanged(step, ctx)) return;
      // Its waits report under its own step too, not under whichever step is current meanwhile.
      const result = withWaitReporter(io.progress, async () => {
        await pausePoint(step.id, 'check');
        return step.check(ctx);
      }).then(
        (value): Settled => ({ ok: true, value }),
        (error: unknown): Settled => ({ ok: false, error }),
      );
      this.ahead.set(step.id, { io, result });
    }
  }

  /** State records the step done with the inputs it has now (inputs that throw: left to the step's turn). */
  private unchanged(step: Step, ctx: StepContext): boolean {
    const rec = this.record(step.id);
    try {
      return rec?.status === 'done' && rec.inputsHash === hashInputs(step.inputs(ctx));
    } catch {
      return false;
    }
  }

  /** The step's check made ahead, its held lines shown under `io`; undefined when there is none (check now). */
  take(stepId: string, io: TaskIo): Promise<CheckResult> | undefined {
    const got = this.ahead.get(stepId);
    if (!got) return undefined;
    this.ahead.delete(stepId);
    got.io.attach(io);
    return got.result.then((r) => {
      if (r.ok) return r.value;
      throw r.error;
    });
  }

  /** A step applied, or changed its outputs: nothing made ahead is used any more, and nothing more starts. */
  drop(): void {
    this.started = true;
    this.ahead.clear();
  }
}
