/** mapLimit: bounded, ordered, and it stops starting work after a failure. */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { concurrencyFromEnv, mapLimit } from '../../src/aws/parallel.js';

/** Runs `fn` while counting how many calls are in flight. */
function tracked<T, R>(fn: (x: T) => Promise<R>) {
  let now = 0;
  let max = 0;
  const started: T[] = [];
  return {
    fn: async (x: T) => {
      started.push(x);
      max = Math.max(max, ++now);
      try {
        return await fn(x);
      } finally {
        now--;
      }
    },
    max: () => max,
    started,
  };
}

describe('mapLimit', () => {
  it('keeps input order and never exceeds the limit', async () => {
    const t = tracked(async (n: number) => {
      await sleep(5 - (n % 5));
      return n * 2;
    });
    const items = Array.from({ length: 12 }, (_, i) => i);
    expect(await mapLimit(items, 4, t.fn)).toEqual(items.map((n) => n * 2));
    expect(t.max()).toBe(4);
  });

  it('is serial with limit 1 and treats a nonsense limit as 1', async () => {
    for (const limit of [1, 0, -3, Number.NaN]) {
      const t = tracked(async (n: number) => sleep(1).then(() => n));
      expect(await mapLimit([1, 2, 3], limit, t.fn)).toEqual([1, 2, 3]);
      expect(t.max(), String(limit)).toBe(1);
    }
  });

  it('starts nothing new after a failure, waits for what is in flight, then throws the first error', async () => {
    let finished = 0;
    const t = tracked(async (n: number) => {
      if (n === 1) throw new Error('boom 1');
      await sleep(20);
      finished++;
      return n;
    });
    await expect(mapLimit([0, 1, 2, 3, 4, 5], 2, t.fn)).rejects.toThrow('boom 1');
    // 1 failed while 0 was in flight: nothing after 1 started, and 0 had finished before the rejection.
    expect(t.started).toEqual([0, 1]);
    expect(finished).toBe(1);
  });

  it('handles an empty list', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});

describe('concurrencyFromEnv', () => {
  it('reads a positive integer and falls back otherwise', () => {
    expect(concurrencyFromEnv('X', 4, { X: '8' })).toBe(8);
    for (const bad of [undefined, '', '0', '-1', '2.5', 'many']) expect(concurrencyFromEnv('X', 4, { X: bad })).toBe(4);
  });
});
