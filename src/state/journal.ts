/**
 * The local journal: ~/.platctl/<cluster>/state.json, used before the cluster exists and again during the last
 * part of teardown. Written atomically; a local lock file (see lock/) keeps concurrent runs out.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PlatctlError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { clusterDir } from '../paths.js';
import type { StateStore } from './store.js';
import { emptyState, parseState, type State } from './types.js';

/** Path of a cluster's local journal. */
export function journalPath(cluster: string): string {
  return path.join(clusterDir(cluster), 'state.json');
}

/** A {@link StateStore} over the local journal file. */
export class JournalStore implements StateStore {
  readonly location = 'local' as const;
  readonly name: string;

  constructor(
    private readonly cluster: string,
    readonly file = journalPath(cluster),
  ) {
    this.name = file;
  }

  async load(): Promise<State | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = parseState(text);
    if ('problem' in parsed) {
      throw new PlatctlError('STATE_CORRUPT', `state journal ${this.file} is unreadable: ${parsed.problem}`, {
        hint: `platctl never overwrites it; fix the JSON by hand or move it aside (mv ${this.file} ${this.file}.bad) to start over`,
      });
    }
    return parsed.state;
  }

  async update(mutate: (state: State) => void): Promise<State> {
    const state = (await this.load()) ?? emptyState(this.cluster);
    mutate(state);
    await this.write(state);
    return state;
  }

  async write(state: State): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`, 0o600);
  }
}
