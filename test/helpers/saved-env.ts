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

/** Runs `fn` with the given variables set (undefined: unset) and puts them back after, also after a throw. */
export function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const restore = saveEnv(...Object.keys(vars));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let result: T;
  try {
    result = fn();
  } catch (e) {
    restore();
    throw e;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}
