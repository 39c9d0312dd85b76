/**
 * Teardown's phases through the runner: they run before and after the steps' destroys, each recorded like a
 * step (state.phases and a history entry), skipped unrecorded when they have nothing to do, stopping the run
 * when they fail, and run again by the next teardown.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlatctlError } from '../../src/errors.js';
import type { Phase, PhaseResult } from '../../src/runner/phase.js';
import { journalPath } from '../../src/state/journal.js';
import type { State } from '../../src/state/types.js';
import { useTempHome } from '../helpers/temp-home.js';
import { fakeSteps, runSteps } from '../helpers/test-steps.js';

useTempHome();
const readState = (): State => JSON.parse(readFileSync(journalPath('demo'), 'utf8')) as State;

/** A phase that records its runs in `calls` and returns (or throws) what `answer` says. */
function phase(
  id: string,
  when: 'before' | 'after',
  calls: string[],
  answer: () => PhaseResult = () => ({ detail: `${id} ok` }),
): Phase {
  return {
    id,
    title: `phase ${id}`,
    when,
    async run(ctx) {
      calls.push(`${id}:${ctx.dryRun ? 'dry' : 'run'}`);
      return answer();
    },
  };
}

describe('teardown phases', () => {
  it('run before and after the destroys, recorded like steps', async () => {
    const { rec, steps } = fakeSteps(['a', 'b']);
    await runSteps('bootstrap', steps);
    const calls: string[] = [];
    const first = phase('first', 'before', calls, () => ({ detail: 'did it', data: { n: 1 } }));
    const last = phase('last', 'after', calls);
    rec.clear();
    const report = await runSteps('teardown', steps, { phases: [last, first] });
    expect(report.ok).toBe(true);
    expect(calls).toEqual(['first:run', 'last:run']);
    expect(rec.of('destroy')).toEqual(['b', 'a']);
    expect(report.steps.map((s) => s.id)).toEqual(['b', 'a']);
    expect(report.phases?.map((p) => `${p.id}:${p.result}:${p.detail}`)).toEqual([
      'first:done:did it',
      'last:done:last ok',
    ]);
    expect(report.data).toEqual({ first: { n: 1 } });
    const state = readState();
    expect(state.phases.first).toMatchObject({ status: 'done', by: expect.stringMatching(/@/) });
    expect(state.phases.last?.status).toBe('done');
    expect(Object.keys(state.steps)).toEqual(['a', 'b']);
    expect(state.history.slice(-8).map((h) => `${h.step}:${h.action}:${h.result}`)).toEqual([
      'first:destroy:started',
      'first:destroy:done',
      'b:destroy:started',
      'b:destroy:done',
      'a:destroy:started',
      'a:destroy:done',
      'last:destroy:started',
      'last:destroy:done',
    ]);
  });

  it('skips a phase with nothing to do without recording it', async () => {
    const { steps } = fakeSteps(['a']);
    await runSteps('bootstrap', steps);
    const calls: string[] = [];
    const idle: Phase = { ...phase('idle', 'before', calls), skip: () => 'nothing here' };
    const report = await runSteps('teardown', steps, { phases: [idle] });
    expect(calls).toEqual([]);
    expect(report.phases).toEqual([
      { id: 'idle', title: 'phase idle', result: 'skipped', detail: 'nothing here', durationMs: 0 },
    ]);
    expect(readState().phases.idle).toBeUndefined();
  });

  it('a failing phase before the steps stops the teardown before any destroy; the next teardown runs it again', async () => {
    const { rec, steps } = fakeSteps(['a']);
    await runSteps('bootstrap', steps);
    const calls: string[] = [];
    let fail = true;
    const waiting = phase('wait', 'before', calls, () => {
      if (fail) throw new PlatctlError('STEP_FAILED', 'load balancers still there');
      return { detail: 'all gone' };
    });
    rec.clear();
    const failed = await runSteps('teardown', steps, { phases: [waiting] });
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatchObject({ code: 'STEP_FAILED', message: 'load balancers still there' });
    expect(failed.steps.map((s) => s.result)).toEqual(['not-reached']);
    expect(rec.of('destroy')).toEqual([]);
    expect(readState().phases.wait).toMatchObject({ status: 'failed', error: 'load balancers still there' });
    fail = false;
    const resumed = await runSteps('teardown', steps, { phases: [waiting] });
    expect(resumed.ok).toBe(true);
    expect(calls).toEqual(['wait:run', 'wait:run']);
    expect(readState().phases.wait?.status).toBe('done');
    expect(readState().phases.wait?.error).toBeUndefined();
  });

  it('a phase can finish its work and still fail the run, keeping what it found for the report', async () => {
    const { steps } = fakeSteps(['a']);
    await runSteps('bootstrap', steps);
    const left = ['arn:aws:kms:us-east-1:123456789012:key/k'];
    const report = await runSteps('teardown', steps, {
      phases: [
        phase('orphans', 'after', [], () => ({
          detail: 'left',
          data: left,
          failure: new PlatctlError('STEP_FAILED', '1 left'),
        })),
      ],
    });
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => s.result)).toEqual(['destroyed']);
    expect(report.phases?.[0]).toMatchObject({ id: 'orphans', result: 'failed', detail: '1 left' });
    expect(report.data.orphans).toEqual(left);
    expect(readState().phases.orphans?.status).toBe('failed');
  });

  it('in a dry run, phases only report and nothing is recorded', async () => {
    const { steps } = fakeSteps(['a']);
    await runSteps('bootstrap', steps);
    const calls: string[] = [];
    const before = readFileSync(journalPath('demo'), 'utf8');
    const report = await runSteps('teardown', steps, { dryRun: true, phases: [phase('p', 'before', calls)] });
    expect(calls).toEqual(['p:dry']);
    expect(report.phases?.[0]?.result).toBe('done');
    expect(readFileSync(journalPath('demo'), 'utf8')).toBe(before);
  });
});
