/**
 * The runner's read-ahead of checks (src/runner/read-ahead.ts) over a real journal and file lock: on a re-run the
 * recorded steps' cheap checks run together, a step that has work drops what was read ahead of it, the read-ahead
 * starts only after the step that moves state, and a check's lines are shown under its own step.
 */
import { describe, expect, it } from 'vitest';
import { noticeWhile, setWaitReporter } from '../../src/clients/waiting.js';
import { createStepContext } from '../../src/runner/context.js';
import { ReadAhead } from '../../src/runner/read-ahead.js';
import { hashInputs } from '../../src/runner/select.js';
import type { CheckResult, StepContext } from '../../src/step.js';
import { clusterConfig } from '../helpers/config.js';
import { createFakeKube } from '../helpers/fake-kube.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { useTempHome } from '../helpers/temp-home.js';
import { type FakeStep, fakeSteps, runSteps } from '../helpers/test-steps.js';

useTempHome();

/** Makes each step's check log its start and end, and wait `ms` in between. */
function timed(steps: FakeStep[], events: string[], ms = 50): void {
  for (const s of steps) {
    const check = s.check.bind(s);
    s.check = async (ctx: StepContext): Promise<CheckResult> => {
      events.push(`start ${s.id}`);
      await new Promise((r) => setTimeout(r, ms));
      events.push(`end ${s.id}`);
      return check(ctx);
    };
  }
}

describe('checks read ahead', () => {
  it('on a re-run, starts the cheap check of every recorded step before the first one answers', async () => {
    const { steps } = fakeSteps(['a', 'b', 'c']);
    await runSteps('bootstrap', steps);
    const events: string[] = [];
    timed(steps, events);
    const report = await runSteps('bootstrap', steps);
    expect(report.steps.map((s) => s.result)).toEqual(['up-to-date', 'up-to-date', 'up-to-date']);
    expect(events.slice(0, 3)).toEqual(['start a', 'start b', 'start c']);
    expect(events.filter((e) => e.startsWith('start'))).toHaveLength(3);
  });

  it('a step with work drops what was read ahead: the steps after it check again, after its apply', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c']);
    await runSteps('bootstrap', steps);
    rec.clear();
    steps[1]!.present = false;
    const report = await runSteps('bootstrap', steps);
    expect(report.steps.map((s) => s.result)).toEqual(['up-to-date', 'applied', 'up-to-date']);
    const order = rec.calls.filter((c) => c.op !== 'inputs').map((c) => `${c.op}:${c.step}`);
    // c was read ahead (before b applied), and checked again once b had applied.
    expect(order.filter((o) => o === 'check:c')).toHaveLength(2);
    expect(order.lastIndexOf('check:c')).toBeGreaterThan(order.indexOf('apply:b'));
  });

  it('stops at the first step state does not record done with these inputs', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c']);
    await runSteps('bootstrap', steps);
    rec.clear();
    steps[1]!.input = { id: 'b', changed: true };
    await runSteps('bootstrap', steps);
    const checks = rec.calls.filter((c) => c.op === 'check');
    // b's inputs changed, so its check is deep and made in its turn; c is checked only after b.
    expect(checks.map((c) => `${c.step}${c.deep ? ' deep' : ''}`)).toEqual(['a', 'b deep', 'c']);
  });

  it('starts only after the step that moves state into the cluster', async () => {
    const kube = createFakeKube();
    const { steps } = fakeSteps(['a', 'access', 'c', 'd']);
    Object.assign(steps[1]!, { movesStateToCluster: true });
    await runSteps('bootstrap', steps, { kube });
    const events: string[] = [];
    timed(steps, events);
    await runSteps('bootstrap', steps, { kube });
    expect(events).toEqual(['start a', 'end a', 'start access', 'end access', 'start c', 'start d', 'end c', 'end d']);
  });

  it('a failing check read ahead fails its own step, in its turn', async () => {
    const { steps } = fakeSteps(['a', 'b', 'c']);
    await runSteps('bootstrap', steps);
    steps[2]!.checkError = new Error('c cannot be read');
    const report = await runSteps('bootstrap', steps);
    expect(report.steps.map((s) => s.result)).toEqual(['up-to-date', 'up-to-date', 'failed']);
    expect(report.steps[2]?.detail).toContain('c cannot be read');
  });
});

describe('ReadAhead', () => {
  it("holds a check's lines until its step takes the result, then sends them, and later ones, to that step", async () => {
    const cluster = clusterConfig('demo');
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const step = {
      ...fakeSteps(['a']).steps[0]!,
      async check(ctx: StepContext): Promise<CheckResult> {
        ctx.log.warning('early line');
        ctx.progress('reading');
        await gate;
        ctx.log.info('late line');
        return { status: 'up-to-date', detail: 'fine' };
      },
    };
    const ahead = new ReadAhead(
      () => ({ status: 'done', inputsHash: undefined, outputs: {} }) as never,
      (io) => createStepContext({ cluster, ...io }),
    );
    // The record's hash is not the step's: nothing starts.
    ahead.start([step]);
    expect(ahead.take('a', { log: memoryLogger(), progress: () => {} })).toBeUndefined();

    const again = new ReadAhead(
      () => ({ status: 'done', inputsHash: hashInputs({ id: 'a' }), outputs: {} }) as never,
      (io) => createStepContext({ cluster, ...io }),
    );
    again.start([step]);
    await new Promise((r) => setTimeout(r, 10));
    const log = memoryLogger();
    const progress: string[] = [];
    const result = again.take('a', { log, progress: (m) => progress.push(m) });
    expect(log.lines.join('\n')).toContain('early line');
    expect(progress).toEqual(['reading']);
    release();
    await expect(result).resolves.toMatchObject({ detail: 'fine' });
    expect(log.lines.join('\n')).toContain('late line');
    expect(again.take('a', { log, progress: () => {} })).toBeUndefined();
  });

  it("reports a check's waits under its own step, not under the step that is current meanwhile", async () => {
    const cluster = clusterConfig('demo');
    const step = {
      ...fakeSteps(['b']).steps[0]!,
      async check(): Promise<CheckResult> {
        const done = noticeWhile('a slow endpoint', 5);
        await new Promise((r) => setTimeout(r, 40));
        done();
        return { status: 'up-to-date', detail: 'fine' };
      },
    };
    const ahead = new ReadAhead(
      () => ({ status: 'done', inputsHash: hashInputs({ id: 'b' }), outputs: {} }) as never,
      (io) => createStepContext({ cluster, ...io }),
    );
    // The runner points the run-wide reporter at the current step (here: another one) while b is read ahead.
    const current: string[] = [];
    const previous = setWaitReporter((m) => current.push(m));
    try {
      ahead.start([step]);
      await new Promise((r) => setTimeout(r, 60));
      const own: string[] = [];
      await ahead.take('b', { log: memoryLogger(), progress: (m) => own.push(m) });
      expect(own.some((m) => m.startsWith('waiting for a slow endpoint'))).toBe(true);
      expect(current).toEqual([]);
    } finally {
      setWaitReporter(previous);
    }
  });
});
