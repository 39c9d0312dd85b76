/** The state store interface: read, and read-modify-write with optimistic concurrency. */
import type { State } from './types.js';

/** Where the state lives, and how to change it safely. */
export interface StateStore {
  /** "local" for the journal file, "cluster" for the ConfigMap. */
  readonly location: 'local' | 'cluster';
  /** A human name for messages: a file path, or "ConfigMap platctl-system/platctl-state on <server>". */
  readonly name: string;
  /** Reads the state; undefined when none was written yet. A state that fails to parse throws STATE_CORRUPT. */
  load(): Promise<State | undefined>;
  /**
   * Applies a mutation and writes the result. The mutation may run more than once: on a concurrent write the
   * store re-reads and re-applies it (ConfigMap: HTTP 409 on resourceVersion). Returns the written state.
   */
  update(mutate: (state: State) => void): Promise<State>;
  /** Writes a whole state, replacing what is there (migration). */
  write(state: State): Promise<void>;
}
