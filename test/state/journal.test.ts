/**
 * The local journal: atomic 0600 writes that leave no temp files, and a corrupt journal that is reported
 * (STATE_CORRUPT naming the file) and never overwritten, not even by a run that trips over it.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournalStore, journalPath } from '../../src/state/journal.js';
import { emptyState, parseState } from '../../src/state/types.js';
import { platctlFailure } from '../helpers/platctl-error.js';
import { useTempHome } from '../helpers/temp-home.js';
import { fakeSteps, runSteps } from '../helpers/test-steps.js';

const home = useTempHome();

const failure = (p: Promise<unknown>) => platctlFailure(p);

describe('JournalStore', () => {
  it('lives at $PLATCTL_HOME/<cluster>/state.json and starts empty', async () => {
    const store = new JournalStore('demo');
    expect(store.file).toBe(path.join(home(), 'demo', 'state.json'));
    expect(await store.load()).toBeUndefined();
    const s = await store.update((st) => {
      st.steps.a = { status: 'done', outputs: { x: 1 } };
    });
    expect(s).toMatchObject({ version: 1, cluster: 'demo', location: 'local', steps: { a: { status: 'done' } } });
    expect(await store.load()).toEqual(s);
  });

  it('writes atomically with mode 0600 in a 0700 folder, leaving no temp files', async () => {
    const store = new JournalStore('demo');
    for (let i = 0; i < 20; i++) {
      await store.update((st) => {
        st.steps[`s${i}`] = { status: 'done', outputs: {} };
      });
    }
    expect(readdirSync(path.join(home(), 'demo'))).toEqual(['state.json']);
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(store.file)).mode & 0o077).toBe(0);
    expect(Object.keys((await store.load())?.steps ?? {})).toHaveLength(20);
  });

  it.each([
    ['half-written JSON', '{"version":1,"cluster":"demo","ste', 'not valid JSON'],
    ['a future format', '{"version":2,"cluster":"demo"}', 'unexpected shape at version'],
    ['a bad step status', '{"version":1,"cluster":"demo","steps":{"a":{"status":"exploded"}}}', 'steps.a.status'],
  ])('refuses %s with STATE_CORRUPT naming the file', async (_what, text, problem) => {
    mkdirSync(path.join(home(), 'demo'), { recursive: true });
    writeFileSync(journalPath('demo'), text);
    const err = await failure(new JournalStore('demo').load());
    expect(err.code).toBe('STATE_CORRUPT');
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain(journalPath('demo'));
    expect(err.message).toContain(problem);
    expect(err.hint).toContain('never overwrites');
  });

  it('never overwrites a corrupt journal: update and a whole run fail and leave the bytes alone', async () => {
    mkdirSync(path.join(home(), 'demo'), { recursive: true });
    const bytes = '{"version":1,"cluster":"demo","steps":{"a":{"status":"done"';
    writeFileSync(journalPath('demo'), bytes);
    const store = new JournalStore('demo');
    expect((await failure(store.update(() => {}))).code).toBe('STATE_CORRUPT');
    const { rec, steps } = fakeSteps(['a', 'b']);
    expect((await failure(runSteps('bootstrap', steps))).code).toBe('STATE_CORRUPT');
    expect(rec.calls).toEqual([]);
    expect(readFileSync(journalPath('demo'), 'utf8')).toBe(bytes);
    expect(readdirSync(path.join(home(), 'demo'))).toEqual(['state.json']);
  });
});

describe('parseState', () => {
  it('fills defaults for a minimal document', () => {
    expect(parseState('{"version":1,"cluster":"x"}')).toEqual({ state: emptyState('x') });
  });
});
