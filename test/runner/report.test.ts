/**
 * What a failed run leaves behind: the report, the log and the state never show a registered secret, and the
 * history stays capped at HISTORY_LIMIT entries.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PlatctlError } from '../../src/errors.js';
import { clearSecrets, registerSecret } from '../../src/secrets.js';
import { JournalStore, journalPath } from '../../src/state/journal.js';
import { emptyState, HISTORY_LIMIT, type State } from '../../src/state/types.js';
import { useTempHome } from '../helpers/temp-home.js';
import { fakeSteps, runSteps } from '../helpers/test-steps.js';

useTempHome();
afterEach(() => {
  clearSecrets();
});

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
    const { cause: _cause, ...printable } = report as typeof report & { cause?: unknown };
    expect(JSON.stringify(printable)).not.toContain(secret);
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

  it('keeps the code and hint of a PlatctlError in the report', async () => {
    const { steps } = fakeSteps(['a']);
    steps[0]!.applyError = new PlatctlError('AWS_CREDENTIALS', 'no credentials for account 123456789012', {
      hint: 'run aws sso login',
    });
    const report = await runSteps('bootstrap', steps);
    expect(report.error).toEqual({
      code: 'AWS_CREDENTIALS',
      message: 'no credentials for account 123456789012',
      hint: 'run aws sso login',
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
