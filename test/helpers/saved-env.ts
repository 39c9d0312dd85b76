/** Snapshot and restore of environment variables a test changes (PLATCTL_HOME, GIT_SSH_COMMAND, …). */

/** Remembers the named variables now; the returned function puts them back (deleting ones that were unset). */
export function saveEnv(...names: string[]): () => void {
  const saved = names.map((n) => [n, process.env[n]] as const);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
