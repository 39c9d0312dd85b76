/**
 * What a failed run leaves behind: the report, the log and the state never show a registered secret, and the
 * history stays capped at HISTORY_LIMIT entries.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PlatctlError } from '../../src/errors.js';
import { runBootstrap } from '../../src/runner/pipeline.js';
import { withSession } from '../../src/runner/session.js';
import { clearSecrets, registerSecret } from '../../src/secrets.js';
import { JournalStore, journalPath } from '../../src/state/journal.js';
import { emptyState, HISTORY_LIMIT, type State } from '../../src/state/types.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { useTempHome } from '../helpers/temp-home.js';
import { fakeSteps, runnerBase, runSteps } from '../helpers/test-steps.js';

useTempHome();
afterEach(() => {
  clearSecrets();
});

const fail = (): never => {
  throw new Error('this run has no cluster');
};
const journalText = () => readFileSync(journalPath('demo'), 'utf8');

describe('a failing step', () => {
  const secret = 'hvs.CAESIJ4f9zQk2secretvalue';

  it('never shows a registered secret in the report, the log or the state', async () => {
    registerSecret(secret);
    const { steps } = fakeSteps(['a', 'b']);
    steps[1]!.applyError = new Error(`vault login failed with token ${secret}: permission denied`);
    const report = await runSteps('bootstrap', steps);
    expect(report.ok).toBe(false);
    expect(report.error?.message).toBe('vault login failed with token ****: permission denied');
    expect(report.steps[1]?.detail).toBe('vault login failed with token ****: permission denied');
    expect(JSON.stringify(report)).not.toContain(secret);
    expect(report.log.join('\n')).not.toContain(secret);
    const text = journalText();
    expect(text).not.toContain(secret);
    expect((JSON.parse(text) as State).steps.b?.error).toContain('****');
  });

  it('masks AWS secret assignments by shape, even unregistered', async () => {
    const { steps } = fakeSteps(['a']);
    steps[0]!.applyError = new Error(`aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY rejected`);
    const report = await runSteps('bootstrap', steps);
    expect(report.error?.message).not.toContain('wJalrXUtnFEMI');
    expect(journalText()).not.toContain('wJalrXUtnFEMI');
  });

  it('reports plain data: the thrown error rides beside the report, never inside it', async () => {
    const { steps } = fakeSteps(['a']);
    const thrown = new PlatctlError('LOCK_HELD', 'locked by someone', { hint: 'wait' });
    steps[0]!.applyError = thrown;
    const log = memoryLogger();
    const session = { cluster: 'demo', log, command: 'bootstrap', kube: async () => fail(), lock: true };
    const outcome = await withSession(session, (s) =>
      runBootstrap({ steps, base: runnerBase({ log }), session: s, tty: false }),
    );
    expect(outcome.failure).toBe(thrown);
    expect(JSON.parse(JSON.stringify(outcome.report))).toEqual(outcome.report);
    expect(Object.keys(outcome.report).sort()).toEqual(['cluster', 'command', 'dryRun', 'error', 'ok', 'steps']);
  });

  it('keeps the code and hint of a PlatctlError in the report, with the anchor that explains the code', async () => {
    const { steps } = fakeSteps(['a']);
    steps[0]!.applyError = new PlatctlError('AWS_CREDENTIALS', 'no credentials for account 123456789012', {
      hint: 'run aws sso login',
    });
    const report = await runSteps('bootstrap', steps);
    expect(report.error).toEqual({
      code: 'AWS_CREDENTIALS',
      message: 'no credentials for account 123456789012',
      hint: 'run aws sso login',
      docs: 'docs/errors.md#aws-credentials',
    });
  });
});

describe('history', () => {
  it(`keeps only the newest ${HISTORY_LIMIT} entries`, async () => {
    const old = emptyState('demo');
    for (let i = 0; i < HISTORY_LIMIT; i++) {
      old.history.push({ at: new Date(0).toISOString(), step: `old-${i}`, action: 'apply', result: 'done', by: 'x' });
    }
    await new JournalStore('demo').write(old);
    const { steps } = fakeSteps(['a', 'b']);
    await runSteps('bootstrap', steps);
    const history = (JSON.parse(journalText()) as State).history;
    expect(history).toHaveLength(HISTORY_LIMIT);
    expect(history.slice(-4).map((h) => `${h.step}:${h.result}`)).toEqual([
      'a:started',
      'a:done',
      'b:started',
      'b:done',
    ]);
    expect(history[0]?.step).toBe('old-4');
  });
});
