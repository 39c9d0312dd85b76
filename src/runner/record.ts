/**
 * The runner's bookkeeping: one state write records a step's (or phase's) progress and its history entry, so
 * what `platctl status` shows and what history says never disagree.
 */
import { whoAmI } from '../paths.js';
import { type HistoryEntry, pushHistory, type StepState } from '../state/types.js';
import type { StateSession } from './session.js';

/** Longest error text kept in state (record and history); the run report keeps it whole. */
const MAX_ERROR = 1000;

/** An error message cut for state (mask first, so a cut never splits a secret past the masker). */
export function storedError(masked: string): string {
  return masked.length > MAX_ERROR
    ? `${masked.slice(0, MAX_ERROR)}… (${masked.length - MAX_ERROR} more characters)`
    : masked;
}

/** What is being recorded: a step of the table, or a phase. */
export interface Mark {
  kind: 'steps' | 'phases';
  id: string;
  action: 'apply' | 'destroy';
  result: HistoryEntry['result'];
  /** The rest of the record: inputs hash, outputs, error. */
  patch?: Partial<StepState>;
  ms?: number;
}

function statusOf(m: Mark): StepState['status'] {
  if (m.result === 'failed') return 'failed';
  if (m.result === 'started') return m.kind === 'steps' && m.action === 'destroy' ? 'destroying' : 'running';
  return m.kind === 'steps' && m.action === 'destroy' ? 'destroyed' : 'done';
}

/** Writes the record (status, times, by, patch) and the matching history entry in one update. */
export async function mark(session: StateSession, m: Mark): Promise<void> {
  const at = new Date().toISOString();
  const by = whoAmI();
  const patch = m.patch ?? {};
  const times = m.result === 'started' ? { startedAt: at } : { finishedAt: at };
  await session.update((s) => {
    const records = s[m.kind];
    records[m.id] = { outputs: {}, ...records[m.id], ...patch, ...times, status: statusOf(m), by };
    if (patch.error === undefined) delete records[m.id]?.error;
    pushHistory(s, {
      at,
      step: m.id,
      action: m.action,
      result: m.result,
      by,
      ...(m.ms === undefined ? {} : { ms: m.ms }),
      ...(patch.error === undefined ? {} : { error: patch.error }),
    });
  });
}
