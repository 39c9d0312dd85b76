/**
 * `status --verify` runs the checks through the runner: the same inputs and deep checks bootstrap runs, as a dry
 * run that writes nothing and goes on past a failing check, so every finding is reported together.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { runChecks } from '../../src/runner/pipeline.js';
import { withSession } from '../../src/runner/session.js';
import { journalPath } from '../../src/state/journal.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { useTempHome } from '../helpers/temp-home.js';
import { type FakeStep, fakeSteps, runnerBase, runSteps } from '../helpers/test-steps.js';

useTempHome();

async function check(steps: FakeStep[]) {
  const log = memoryLogger();
  const session = {
    cluster: 'demo',
    log,
    command: 'status',
    kube: async () => Promise.reject(new Error('no')),
    lock: false,
  };
  return withSession(session, (s) => runChecks({ steps, base: runnerBase({ log }), session: s, tty: false }));
}

it('runs every deep check as a dry run, past a failing one, and writes nothing', async () => {
  const { rec, steps } = fakeSteps(['a', 'b', 'c']);
  await runSteps('bootstrap', steps);
  const before = readFileSync(journalPath('demo'), 'utf8');
  steps[0]!.present = false;
  steps[1]!.checkError = new Error('cannot reach the API');
  rec.clear();
  const { report } = await check(steps);
  expect(report.command).toBe('status');
  expect(report.steps.map((s) => `${s.id}:${s.result}:${s.check ?? '-'}`)).toEqual([
    'a:would-apply:absent',
    'b:failed:-',
    'c:up-to-date:up-to-date',
  ]);
  expect(report.steps[1]?.detail).toBe('cannot reach the API');
  expect(rec.calls.filter((c) => c.op === 'check').every((c) => c.deep && c.dryRun)).toBe(true);
  expect(rec.of('apply')).toEqual([]);
  expect(readFileSync(journalPath('demo'), 'utf8')).toBe(before);
});
