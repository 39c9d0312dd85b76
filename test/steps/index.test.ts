/** steps/index.ts is the one ordered table: it matches the README's pipeline, and every step has its page. */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { steps } from '../../steps/index.js';

describe('the pipeline table', () => {
  it('lists the steps in the order the README documents', () => {
    const readme = readFileSync('README.md', 'utf8');
    const documented = [...readme.matchAll(/^\| \d+ \| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(steps.map((s) => s.id)).toEqual(documented);
  });

  it('has unique ids, each with docs/steps/<id>.md', () => {
    const ids = steps.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(existsSync(`docs/steps/${id}.md`), id).toBe(true);
  });

  it('moves state into the cluster exactly once, at the access step', () => {
    expect(steps.filter((s) => s.movesStateToCluster).map((s) => s.id)).toEqual(['access']);
  });
});
