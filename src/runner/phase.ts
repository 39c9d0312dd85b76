/**
 * Recorded work outside the step table: teardown's phases (cloud load balancers before the destroys, tenants,
 * the orphan report after) and day-2 operations (istio upgrade). The runner records a phase like a step —
 * `state.phases[<id>]` and a history entry, running before the work and done or failed after — so a killed
 * run shows where it stopped, and the next run does that phase again (every phase is idempotent).
 */
import type { State, StepOutputs } from '../state/types.js';
import type { StepContext } from '../step.js';

/** What a phase gets: a step context plus the run's state, read and changed through the session. */
export interface PhaseContext extends StepContext {
  /** The state as of now. */
  state(): State;
  /** Changes state through the session (optimistic concurrency, like every other write). */
  updateState(mutate: (state: State) => void): Promise<State>;
}

/** What a phase did. */
export interface PhaseResult {
  /** One line for the run's report. */
  detail: string;
  /** Structured result for the command to print (and for --output json). */
  data?: unknown;
  /** Set when the phase finished its work but the run must fail (the orphan report found leftovers). */
  failure?: unknown;
  /** Recorded in the phase's state record (never secrets): what `platctl status` shows about it. */
  outputs?: StepOutputs;
}

/** One phase. */
export interface Phase {
  /** Stable id, used in state and history ("teardown-prepare"); never a step id. */
  readonly id: string;
  readonly title: string;
  /** Teardown phases: before the steps' destroys or after them. */
  readonly when?: 'before' | 'after';
  /** A reason when there is nothing to do (the phase is then skipped and not recorded). */
  skip?(o: { state: State; dryRun: boolean }): string | undefined;
  /** Does the work (a dry run: only reports what it would do). Idempotent: a killed run runs it again. */
  run(ctx: PhaseContext): Promise<PhaseResult>;
}
