/**
 * The runner over a real journal and file lock (PLATCTL_HOME is a fresh temp dir per test): order, skipping
 * what is up to date, resuming after a failure or a kill, inputs changes, and teardown in reverse.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashInputs } from '../../src/runner/select.js';
import { JournalStore, journalPath } from '../../src/state/journal.js';
import { emptyState, type State } from '../../src/state/types.js';
import { useTempHome } from '../helpers/temp-home.js';
import { fakeSteps, runSteps } from '../helpers/test-steps.js';

const home = useTempHome();

const readState = (): State => JSON.parse(readFileSync(journalPath('demo'), 'utf8')) as State;
const seed = async (mutate: (s: State) => void) => {
  const s = emptyState('demo');
  mutate(s);
  await new JournalStore('demo').write(s);
};

describe('runBootstrap', () => {
  it('checks and applies the steps in order, recording each one done with its outputs and inputs hash', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c']);
    let seenByB: unknown;
    steps[1]!.onApply = (ctx) => {
      seenByB = ctx.outputs('a');
    };
    const report = await runSteps('bootstrap', steps);
    expect(report.ok).toBe(true);
    expect(rec.of('apply')).toEqual(['a', 'b', 'c']);
    expect(rec.calls.filter((c) => c.op !== 'inputs').map((c) => `${c.op}:${c.step}`)).toEqual([
      'check:a',
      'apply:a',
      'check:b',
      'apply:b',
      'check:c',
      'apply:c',
    ]);
    expect(seenByB).toEqual({ made: 'a-resource' });
    expect(report.steps.map((s) => s.result)).toEqual(['applied', 'applied', 'applied']);
    const state = readState();
    for (const id of ['a', 'b', 'c']) {
      expect(state.steps[id]).toMatchObject({ status: 'done', outputs: { made: `${id}-resource` } });
      expect(state.steps[id]?.inputsHash).toBe(hashInputs({ id }));
      expect(state.steps[id]?.by).toMatch(/@/);
    }
    expect(state.history.map((h) => `${h.step}:${h.result}`)).toEqual([
      'a:started',
      'a:done',
      'b:started',
      'b:done',
      'c:started',
      'c:done',
    ]);
  });

  it('skips what is up to date with a cheap check and writes nothing on a re-run', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c']);
    await runSteps('bootstrap', steps);
    const before = readFileSync(journalPath('demo'));
    const mtime = statSync(journalPath('demo')).mtimeMs;
    rec.clear();
    const report = await runSteps('bootstrap', steps);
    expect(report.steps.map((s) => s.result)).toEqual(['up-to-date', 'up-to-date', 'up-to-date']);
    expect(rec.of('apply')).toEqual([]);
    expect(rec.calls.filter((c) => c.op === 'check').every((c) => !c.deep)).toBe(true);
    expect(readFileSync(journalPath('demo')).equals(before)).toBe(true);
    expect(statSync(journalPath('demo')).mtimeMs).toBe(mtime);
  });

  it('adopts what already exists: records it done without applying', async () => {
    const { rec, steps } = fakeSteps(['a'], { present: true });
    const report = await runSteps('bootstrap', steps);
    expect(report.steps[0]?.result).toBe('up-to-date');
    expect(rec.of('apply')).toEqual([]);
    expect(rec.calls.find((c) => c.op === 'check')?.deep).toBe(true);
    expect(readState().steps.a).toMatchObject({ status: 'done', inputsHash: hashInputs({ id: 'a' }) });
  });

  it('stops at a failing step, records the error, and resumes from it on the next run', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c']);
    steps[1]!.applyError = new Error('quota exceeded for b');
    const first = await runSteps('bootstrap', steps);
    expect(first.ok).toBe(false);
    expect(first.steps.map((s) => s.result)).toEqual(['applied', 'failed', 'not-reached']);
    expect(first.error).toMatchObject({ code: 'STEP_FAILED', message: 'quota exceeded for b' });
    expect(rec.calls.some((c) => c.step === 'c')).toBe(false);
    let state = readState();
    expect(state.steps.b).toMatchObject({ status: 'failed', error: 'quota exceeded for b' });
    expect(state.steps.c).toBeUndefined();
    expect(state.history.at(-1)).toMatchObject({ step: 'b', result: 'failed', error: 'quota exceeded for b' });

    rec.clear();
    steps[1]!.applyError = undefined;
    const second = await runSteps('bootstrap', steps);
    expect(second.ok).toBe(true);
    expect(rec.of('apply')).toEqual(['b', 'c']);
    state = readState();
    expect(state.steps.b?.status).toBe('done');
    expect(state.steps.b?.error).toBeUndefined();
    expect(state.steps.c?.status).toBe('done');
  });

  it('re-checks a step left running by a killed run: adopts it if apply had finished, else applies', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c'], { present: true });
    steps[2]!.present = false;
    const hashOf = (id: string) => hashInputs({ id });
    await seed((s) => {
      s.steps.a = { status: 'done', inputsHash: hashOf('a'), outputs: { made: 'a-resource' } };
      s.steps.b = { status: 'running', inputsHash: hashOf('b'), outputs: {} };
      s.steps.c = { status: 'running', inputsHash: hashOf('c'), outputs: {} };
    });
    await runSteps('bootstrap', steps);
    const checks = rec.calls.filter((c) => c.op === 'check').map((c) => `${c.step}:${c.deep ? 'deep' : 'cheap'}`);
    expect(checks).toEqual(['a:cheap', 'b:deep', 'c:deep']);
    expect(rec.of('apply')).toEqual(['c']);
    const state = readState();
    expect([state.steps.b?.status, state.steps.c?.status]).toEqual(['done', 'done']);
  });

  it('re-runs the deep check of a step whose inputs changed, and applies it when the world drifted', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c']);
    await runSteps('bootstrap', steps);
    rec.clear();
    steps[1]!.input = { id: 'b', size: 'large' };
    steps[1]!.forceStatus = 'drift';
    steps[1]!.onApply = () => {
      steps[1]!.forceStatus = undefined;
    };
    await runSteps('bootstrap', steps);
    const checks = rec.calls.filter((c) => c.op === 'check').map((c) => `${c.step}:${c.deep ? 'deep' : 'cheap'}`);
    expect(checks).toEqual(['a:cheap', 'b:deep', 'c:cheap']);
    expect(rec.of('apply')).toEqual(['b']);
    expect(readState().steps.b?.inputsHash).toBe(hashInputs({ id: 'b', size: 'large' }));
  });

  it('records the new inputs hash without applying when the deep check finds nothing to do', async () => {
    const { rec, steps } = fakeSteps(['a']);
    await runSteps('bootstrap', steps);
    rec.clear();
    steps[0]!.input = { id: 'a', note: 'comment only' };
    await runSteps('bootstrap', steps);
    expect(rec.of('apply')).toEqual([]);
    expect(rec.calls.find((c) => c.op === 'check')?.deep).toBe(true);
    expect(readState().steps.a?.inputsHash).toBe(hashInputs({ id: 'a', note: 'comment only' }));
  });

  it('runs every deep check under --verify', async () => {
    const { rec, steps } = fakeSteps(['a', 'b']);
    await runSteps('bootstrap', steps);
    rec.clear();
    await runSteps('bootstrap', steps, { verify: true });
    expect(rec.calls.filter((c) => c.op === 'check').every((c) => c.deep)).toBe(true);
  });

  it('releases the file lock at the end of a run', async () => {
    const { steps } = fakeSteps(['a']);
    await runSteps('bootstrap', steps);
    expect(existsSync(path.join(home(), 'demo', 'lock'))).toBe(false);
  });
});

describe('runTeardown', () => {
  it('destroys only the applied steps, in exactly the reverse order, and records them destroyed', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c', 'd']);
    steps[2]!.applyError = new Error('c failed');
    await runSteps('bootstrap', steps);
    await seed((s) => {
      Object.assign(s, readState());
      s.steps.c = { status: 'pending', outputs: {} };
    });
    rec.clear();
    const report = await runSteps('teardown', steps);
    expect(report.ok).toBe(true);
    expect(rec.of('destroy')).toEqual(['b', 'a']);
    expect(report.steps.map((s) => `${s.id}:${s.result}`)).toEqual([
      'd:not-applied',
      'c:not-applied',
      'b:destroyed',
      'a:destroyed',
    ]);
    const state = readState();
    expect(state.steps.a).toMatchObject({ status: 'destroyed', outputs: {} });
    expect(state.steps.b).toMatchObject({ status: 'destroyed', outputs: {} });
    expect(state.steps.d).toBeUndefined();
  });

  it('destroys a step whose apply failed (it may have made something), and stops at a failing destroy', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c']);
    steps[2]!.applyError = new Error('c half-made');
    await runSteps('bootstrap', steps);
    steps[1]!.destroyError = new Error('b is still in use');
    rec.clear();
    const report = await runSteps('teardown', steps);
    expect(rec.of('destroy')).toEqual(['c', 'b']);
    expect(report.steps.map((s) => s.result)).toEqual(['destroyed', 'failed', 'not-reached']);
    const state = readState();
    expect(state.steps.b).toMatchObject({ status: 'failed', error: 'b is still in use' });
    expect(state.steps.a?.status).toBe('done');
  });
});
