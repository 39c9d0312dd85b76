/**
 * Bounded parallelism for independent AWS calls: IAM and KMS throttle hard when hit with everything at once,
 * and a serial loop wastes wall time on round trips.
 */

/**
 * Maps `fn` over `items` with at most `limit` calls in flight, keeping the input order in the result.
 * After the first failure no new call starts; the calls already in flight are awaited, then the first error is
 * thrown (so nothing keeps writing behind the caller's back).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const width = Math.max(1, Math.min(Math.floor(limit) || 1, items.length || 1));
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  if (failed) throw failed.error;
  return results;
}

/** Reads a positive integer concurrency from an environment variable, falling back to `fallback`. */
export function concurrencyFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  const n = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : fallback;
}
