/**
 * --dry-run writes nothing anywhere: no state file created or changed (bytes and mtime), no lock file, no
 * apply/destroy, no cluster writes, no state migration. Only checks run, with ctx.dryRun set.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { journalPath } from '../../src/state/journal.js';
import { createFakeKube } from '../helpers/fake-kube.js';
import { useTempHome } from '../helpers/temp-home.js';
import { fakeSteps, runSteps } from '../helpers/test-steps.js';

const home = useTempHome();

/** Every file under $PLATCTL_HOME with its bytes and mtime. */
function snapshot(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p, `${statSync(p).mtimeMs}:${readFileSync(p).toString('base64')}`);
    }
  };
  walk(home());
  return out;
}

describe('bootstrap --dry-run', () => {
  it('on a fresh machine creates no file at all and applies nothing', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c']);
    const report = await runSteps('bootstrap', steps, { dryRun: true });
    expect(report.ok).toBe(true);
    expect(report.dryRun).toBe(true);
    expect(report.steps.map((s) => s.result)).toEqual(['would-apply', 'would-apply', 'would-apply']);
    expect(report.steps[1]?.changes).toEqual(['+ b']);
    expect(rec.of('apply')).toEqual([]);
    expect(rec.calls.filter((c) => c.op === 'check').every((c) => c.dryRun)).toBe(true);
    expect(readdirSync(home())).toEqual([]);
  });

  it('leaves an existing journal byte-for-byte and mtime unchanged, and takes no lock', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c', 'd']);
    steps[2]!.applyError = new Error('c failed');
    await runSteps('bootstrap', steps);
    const before = snapshot();
    expect([...before.keys()]).toEqual([journalPath('demo')]);
    // Now: a up to date, b drifted, c adoptable (would be recorded on a real run), d never ran.
    rec.clear();
    steps[1]!.forceStatus = 'drift';
    steps[2]!.present = true;
    steps[2]!.applyError = undefined;
    const report = await runSteps('bootstrap', steps, { dryRun: true });
    expect(report.steps.map((s) => s.result)).toEqual(['up-to-date', 'would-apply', 'up-to-date', 'would-apply']);
    expect(rec.of('apply')).toEqual([]);
    expect(snapshot()).toEqual(before);
  });

  it('records nothing when a check fails', async () => {
    const { steps } = fakeSteps(['a', 'b']);
    await runSteps('bootstrap', steps);
    const before = snapshot();
    steps[0]!.check = async () => {
      throw new Error('AccessDenied on DescribeThings');
    };
    const report = await runSteps('bootstrap', steps, { dryRun: true });
    expect(report.ok).toBe(false);
    expect(report.steps[0]?.result).toBe('failed');
    expect(snapshot()).toEqual(before);
  });

  it('does not move state into the cluster: zero cluster calls', async () => {
    const kube = createFakeKube();
    const { steps } = fakeSteps(['a', 'access', 'c']);
    steps[1] = Object.assign(steps[1]!, { movesStateToCluster: true });
    const report = await runSteps('bootstrap', steps, { dryRun: true, kube });
    expect(report.ok).toBe(true);
    expect(kube.calls).toEqual([]);
    expect(readdirSync(home())).toEqual([]);
  });
});

describe('teardown --dry-run', () => {
  it('lists what would be destroyed, destroys nothing, writes nothing', async () => {
    const { rec, steps } = fakeSteps(['a', 'b', 'c']);
    steps[2]!.applyError = new Error('c never made');
    await runSteps('bootstrap', steps);
    steps[2]!.applyError = undefined;
    const before = snapshot();
    rec.clear();
    const report = await runSteps('teardown', steps, { dryRun: true });
    expect(report.steps.map((s) => `${s.id}:${s.result}`)).toEqual([
      'c:would-destroy',
      'b:would-destroy',
      'a:would-destroy',
    ]);
    expect(rec.of('destroy')).toEqual([]);
    expect(snapshot()).toEqual(before);
    expect(existsSync(path.join(home(), 'demo', 'lock'))).toBe(false);
  });
});
