/**
 * The shape of platctl's state: one record per step plus a capped history. The same JSON lives in the local
 * journal (~/.platctl/<cluster>/state.json) before the cluster exists and in ConfigMap
 * platctl-system/platctl-state (key state.json) after. Outputs are never secrets.
 */
import { z } from 'zod';

/** Current state format version. */
export const STATE_VERSION = 1;
/** History entries kept; older ones are dropped so the ConfigMap stays small. */
export const HISTORY_LIMIT = 100;

const outputValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

/** One step's record. */
export const stepStateSchema = z.object({
  status: z.enum(['pending', 'running', 'done', 'failed', 'destroying', 'destroyed']),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  inputsHash: z.string().optional(),
  outputs: z.record(z.string(), outputValue).default({}),
  error: z.string().optional(),
  by: z.string().optional(),
});

const historySchema = z.object({
  at: z.string(),
  step: z.string(),
  action: z.enum(['apply', 'destroy', 'migrate']),
  result: z.enum(['started', 'done', 'failed', 'up-to-date']),
  by: z.string(),
  ms: z.number().optional(),
  error: z.string().optional(),
});

/** The whole state document. */
export const stateSchema = z.object({
  version: z.literal(STATE_VERSION),
  cluster: z.string(),
  /** Where the authoritative copy lives; a local journal saying "cluster" is only a pointer. */
  location: z.enum(['local', 'cluster']).default('local'),
  steps: z.record(z.string(), stepStateSchema).default({}),
  /** Recorded work outside the step table (teardown's phases, istio upgrade), in the same record format. */
  phases: z.record(z.string(), stepStateSchema).default({}),
  /** Records kept by steps that manage many items (tenants): compact, never manifests. */
  records: z.record(z.string(), z.record(z.string(), z.record(z.string(), outputValue))).default({}),
  history: z.array(historySchema).default([]),
});

/** A step's outputs: plain values other steps and `status` read. */
export type StepOutputs = Record<string, z.infer<typeof outputValue>>;
/** One step's record. */
export type StepState = z.infer<typeof stepStateSchema>;
/** A history entry. */
export type HistoryEntry = z.infer<typeof historySchema>;
/** The state document. */
export type State = z.infer<typeof stateSchema>;

/** A fresh, empty state for a cluster. */
export function emptyState(cluster: string): State {
  return { version: STATE_VERSION, cluster, location: 'local', steps: {}, phases: {}, records: {}, history: [] };
}

/** Appends to history, keeping only the newest {@link HISTORY_LIMIT} entries. */
export function pushHistory(state: State, entry: HistoryEntry): void {
  state.history.push(entry);
  if (state.history.length > HISTORY_LIMIT) state.history.splice(0, state.history.length - HISTORY_LIMIT);
}

/** Parses state JSON; returns a description of the problem instead of throwing. */
export function parseState(text: string): { state: State } | { problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { problem: `not valid JSON (${(err as Error).message})` };
  }
  const result = stateSchema.safeParse(raw);
  if (!result.success) {
    const first = result.error.issues[0];
    return { problem: `unexpected shape at ${first?.path.join('.') || '(root)'}: ${first?.message}` };
  }
  return { state: result.data };
}

/** When a step record last changed (finishedAt, else startedAt), for comparing two copies. */
const changedAt = (s: StepState | undefined) => s?.finishedAt ?? s?.startedAt ?? '';

/**
 * Joins the state a cluster already holds with this machine's local state (a run from another machine, or
 * with a lost journal, reaching the step that moves state into the cluster). Nothing is dropped: per step the
 * newer record wins, the cluster's records (tenants) stay, histories are merged in time order.
 */
export function mergeStates(inCluster: State, local: State): State {
  const merged = structuredClone(inCluster);
  for (const [id, rec] of Object.entries(local.steps)) {
    if (changedAt(rec) > changedAt(merged.steps[id])) merged.steps[id] = structuredClone(rec);
  }
  for (const [id, rec] of Object.entries(local.phases)) {
    if (changedAt(rec) > changedAt(merged.phases[id])) merged.phases[id] = structuredClone(rec);
  }
  for (const [kind, items] of Object.entries(local.records)) {
    merged.records[kind] = { ...structuredClone(items), ...merged.records[kind] };
  }
  const seen = new Set(merged.history.map((h) => JSON.stringify(h)));
  const history = [...merged.history, ...local.history.filter((h) => !seen.has(JSON.stringify(h)))];
  history.sort((a, b) => a.at.localeCompare(b.at));
  merged.history = history.slice(-HISTORY_LIMIT);
  return merged;
}
