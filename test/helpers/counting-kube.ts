/**
 * One wrapper for "how many requests did the step make": a KubeClient that counts reads (get/list) and writes
 * (everything else), keeping each call's verb and a short line naming its object. The step tests use it to
 * assert "one read, no writes" on a re-run.
 */
import type { KubeClient } from '../../src/clients/kube.js';

/** What a {@link CountingKube} has counted so far. */
export interface KubeCounts {
  reads: number;
  writes: number;
  /** The verb of every call, in order. */
  calls: string[];
  /** `<verb> <kind> <name>` of every call, in order. */
  log: string[];
}

/** A KubeClient that counts reads (get/list) and writes (everything else). */
export interface CountingKube extends KubeClient {
  readonly counts: KubeCounts;
}

/** Wraps `inner` with counters; every call still goes to `inner`. */
export function countKube(inner: KubeClient): CountingKube {
  const counts: KubeCounts = { reads: 0, writes: 0, calls: [], log: [] };
  const wrap =
    <A extends unknown[], R>(verb: string, read: boolean, fn: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> => {
      if (read) counts.reads++;
      else counts.writes++;
      counts.calls.push(verb);
      const first = a[0] as { kind?: string; name?: string; metadata?: { name?: string } } | string;
      counts.log.push(
        `${verb} ${typeof first === 'string' ? `${first} ${String(a[1])}` : `${first?.kind} ${first?.name ?? first?.metadata?.name}`}`,
      );
      return fn(...a);
    };
  return {
    server: inner.server,
    counts,
    get: wrap('get', true, inner.get.bind(inner)) as KubeClient['get'],
    list: wrap('list', true, inner.list.bind(inner)) as KubeClient['list'],
    create: wrap('create', false, inner.create.bind(inner)) as KubeClient['create'],
    replace: wrap('replace', false, inner.replace.bind(inner)) as KubeClient['replace'],
    apply: wrap('apply', false, inner.apply.bind(inner)) as KubeClient['apply'],
    patch: wrap('patch', false, inner.patch.bind(inner)) as KubeClient['patch'],
    delete: wrap('delete', false, inner.delete.bind(inner)),
    // The port-forward (a stream, not a counted request) passes through: vault-init reaches Vault with it.
    ...(inner.forwarder ? { forwarder: inner.forwarder } : {}),
  };
}
