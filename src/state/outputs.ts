/**
 * Typed step outputs. State keeps a step's outputs as a plain string-keyed record (it is JSON in a ConfigMap);
 * each step declares the shape of its own outputs once, next to the step, with {@link outputReader}, and every
 * consumer reads them through that reader instead of re-checking `typeof` at each use.
 */
import type { State, StepOutputs } from './types.js';

/** How one output is stored. */
export type OutputKind = 'string' | 'number' | 'boolean' | 'strings';
/** A step's output fields and their kinds. */
export type OutputShape = Record<string, OutputKind>;

type ValueOf<K extends OutputKind> = K extends 'string'
  ? string
  : K extends 'number'
    ? number
    : K extends 'boolean'
      ? boolean
      : string[];

/** The typed outputs of a shape: a field is absent when the step has not recorded it (or recorded another type). */
export type TypedOutputs<S extends OutputShape> = { [K in keyof S]?: ValueOf<S[K]> };

/** Anything that can hand out a step's recorded outputs: a step context, or {@link stateOutputs}. */
export interface OutputSource {
  outputs(stepId: string): StepOutputs;
}

/** Reads one step's outputs, typed. Call it with a step context; `.of()` takes a raw record. */
export interface OutputReader<S extends OutputShape> {
  (from: OutputSource): TypedOutputs<S>;
  /** The step whose outputs these are. */
  readonly stepId: string;
  /** The declared fields and their kinds. */
  readonly shape: S;
  /** Types a raw outputs record (e.g. `state.steps[id].outputs`). */
  of(raw: StepOutputs | undefined): TypedOutputs<S>;
  /** The outputs the step records, checked against the shape at compile time (unset fields are left out). */
  record(values: TypedOutputs<S>): StepOutputs;
}

function typed(kind: OutputKind, v: unknown): unknown {
  switch (kind) {
    case 'string':
      return typeof v === 'string' && v !== '' ? v : undefined;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined;
    case 'strings':
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
  }
}

/** Declares a step's outputs: `export const readIamOutputs = outputReader('iam', { vaultRoleArn: 'string' })`. */
export function outputReader<S extends OutputShape>(stepId: string, shape: S): OutputReader<S> {
  const of = (raw: StepOutputs | undefined): TypedOutputs<S> => {
    const out: Record<string, unknown> = {};
    for (const [key, kind] of Object.entries(shape)) {
      const v = typed(kind, raw?.[key]);
      if (v !== undefined) out[key] = v;
    }
    return out as TypedOutputs<S>;
  };
  const record = (values: TypedOutputs<S>): StepOutputs =>
    Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as StepOutputs;
  return Object.assign((from: OutputSource) => of(from.outputs(stepId)), { stepId, shape, of, record });
}

/** The recorded outputs of a state as an {@link OutputSource} (no state: nothing recorded). */
export function stateOutputs(state: State | undefined): OutputSource {
  return { outputs: (id) => state?.steps[id]?.outputs ?? {} };
}
