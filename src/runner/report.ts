/** What a run reports: one entry per step, printed for humans or as JSON with --output json. */
import type { StepOutputs } from '../state/types.js';
import type { CheckStatus } from '../step.js';

/** The outcome of one step in a run. */
export type StepResult =
  | 'applied'
  | 'up-to-date'
  | 'would-apply'
  | 'failed'
  | 'destroyed'
  | 'would-destroy'
  | 'not-applied'
  | 'not-reached'
  /** A phase (src/runner/phase.ts) did its work, or had nothing to do. */
  | 'done'
  | 'skipped';

/** One step's line in a run report. */
export interface StepReport {
  id: string;
  title: string;
  result: StepResult;
  detail: string;
  changes?: string[];
  durationMs: number;
  outputs?: StepOutputs;
  /** What the step's check found, when it ran (bootstrap, status --verify). */
  check?: CheckStatus;
}

/** The whole run. */
export interface RunReport {
  command: 'bootstrap' | 'teardown' | 'istio upgrade' | 'status';
  cluster: string;
  dryRun: boolean;
  ok: boolean;
  steps: StepReport[];
  /** The run's phases (teardown's before and after the steps), when it had any. */
  phases?: StepReport[];
  /** The first failure: its code, message, hint, and where docs/errors.md explains the code. */
  error?: { code: string; message: string; hint?: string; docs: string };
}

/** "1.2s" / "340ms". */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** Human summary lines for a finished run (stdout). */
export function summarise(report: RunReport): string[] {
  const counts = new Map<StepResult, number>();
  for (const s of report.steps) counts.set(s.result, (counts.get(s.result) ?? 0) + 1);
  const parts = [...counts.entries()].map(([k, v]) => `${v} ${k}`);
  const lines = [
    `${report.command} ${report.cluster}${report.dryRun ? ' (dry run)' : ''}: ${parts.join(', ') || 'nothing to do'}`,
  ];
  for (const s of report.steps) {
    if (s.result === 'would-apply' || s.result === 'would-destroy') {
      lines.push(`  ${s.id}: ${s.detail}`);
      for (const c of s.changes ?? []) lines.push(`    ${c}`);
    }
  }
  return lines;
}
