/** selectSteps (--from / --only) and hashInputs (what decides that a step's inputs changed). */
import { describe, expect, it } from 'vitest';
import { isPlatctlError } from '../../src/errors.js';
import { hashInputs, selectSteps } from '../../src/runner/select.js';
import { fakeSteps } from '../helpers/test-steps.js';

const { steps } = fakeSteps(['network', 'cluster', 'access', 'flux']);
const ids = (s: { id: string }[]) => s.map((x) => x.id);

function refuse(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (isPlatctlError(err)) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('selectSteps', () => {
  it('returns every step in order by default (a copy)', () => {
    const all = selectSteps(steps, {});
    expect(ids(all)).toEqual(['network', 'cluster', 'access', 'flux']);
    expect(all).not.toBe(steps);
  });

  it('--from starts at that step and keeps the rest in order', () => {
    expect(ids(selectSteps(steps, { from: 'access' }))).toEqual(['access', 'flux']);
    expect(ids(selectSteps(steps, { from: 'network' }))).toEqual(['network', 'cluster', 'access', 'flux']);
  });

  it('--only runs just that step', () => {
    expect(ids(selectSteps(steps, { only: 'cluster' }))).toEqual(['cluster']);
  });

  it.each([
    [{ from: 'clustr' }, '--from clustr: no such step'],
    [{ only: 'vault' }, '--only vault: no such step'],
  ])('refuses an unknown step %o with exit 2, listing the steps', (opts, message) => {
    const err = refuse(() => selectSteps(steps, opts));
    expect(err.code).toBe('UNKNOWN_STEP');
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(message);
    expect(err.hint).toBe('steps are: network, cluster, access, flux');
  });

  it('refuses --from with --only', () => {
    const err = refuse(() => selectSteps(steps, { from: 'network', only: 'flux' }));
    expect(err.code).toBe('USAGE');
    expect(err.exitCode).toBe(2);
  });
});

describe('hashInputs', () => {
  it('ignores key order and undefined fields', () => {
    expect(hashInputs({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(
      hashInputs({ b: { d: 'x', c: [1, 2] }, a: 1, e: undefined }),
    );
  });

  it('changes with any value, array order or nesting', () => {
    const base = hashInputs({ a: 1, list: ['x', 'y'] });
    expect(hashInputs({ a: 2, list: ['x', 'y'] })).not.toBe(base);
    expect(hashInputs({ a: 1, list: ['y', 'x'] })).not.toBe(base);
    expect(hashInputs({ a: 1, list: [['x', 'y']] })).not.toBe(base);
    expect(hashInputs({ a: '1', list: ['x', 'y'] })).not.toBe(base);
  });

  it('is a short stable hex string', () => {
    expect(hashInputs({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
    expect(hashInputs(undefined)).toBe(hashInputs(null));
  });
});
