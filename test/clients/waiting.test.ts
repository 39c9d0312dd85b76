/** Progress while a call waits, and the bound that ends it with an error naming the endpoint. */
import { afterEach, describe, expect, it } from 'vitest';
import { bounded, noticeWhile, setNoticeInterval, setWaitReporter } from '../../src/clients/waiting.js';
import { platctlFailure } from '../helpers/platctl-error.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lines: string[] = [];
setWaitReporter((m) => lines.push(m));
afterEach(() => {
  lines.length = 0;
  setNoticeInterval(10_000);
});

describe('noticeWhile', () => {
  it('says "waiting for <label>… N s" every interval until stopped, and nothing after', async () => {
    const stop = noticeWhile('sts.us-east-1', 40);
    await sleep(150);
    stop();
    const n = lines.length;
    expect(n).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^waiting for sts\.us-east-1… \d+ (ms|s)$/);
    await sleep(100);
    expect(lines.length).toBe(n);
  });
});

describe('bounded', () => {
  it('returns what the work returns, with no line when it is quick', async () => {
    setNoticeInterval(1_000);
    expect(await bounded('x', 1_000, { endpoint: 'x', what: 'x', hint: 'x' }, async () => 42)).toBe(42);
    expect(lines).toEqual([]);
  });

  it('rejects with TIMEOUT naming the endpoint and what to check, and aborts the work', async () => {
    setNoticeInterval(30);
    let aborted = false;
    const err = await platctlFailure(
      bounded(
        'git.example.com',
        120,
        { endpoint: 'git.example.com:22', what: 'git push', hint: 'check the VPN' },
        (signal) => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
          return new Promise(() => {});
        },
      ),
    );
    expect(err.code).toBe('TIMEOUT');
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe('git push: no answer from git.example.com:22 within 120 ms');
    expect(err.hint).toMatch(/^check the VPN; nothing is left half-done/);
    expect(aborted).toBe(true);
    expect(lines.some((l) => l.startsWith('waiting for git.example.com…'))).toBe(true);
  });
});
