/**
 * Typed step outputs: each step declares its outputs once, next to the step, and every consumer reads them
 * through that reader. A reader keeps only values of the declared kind, and a step records only declared fields.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type OutputReader, type OutputShape, outputReader, stateOutputs } from '../../src/state/outputs.js';
import { emptyState } from '../../src/state/types.js';
import { steps } from '../../steps/index.js';

const demo = outputReader('demo', { name: 'string', count: 'number', ok: 'boolean', ids: 'strings' });

describe('outputReader', () => {
  it('types what the step recorded and leaves out what is missing, empty or of another kind', () => {
    const outputs = { demo: { name: 'a', count: 3, ok: false, ids: ['x', 'y'], extra: 'kept out' } };
    expect(demo({ outputs: (id) => outputs[id as 'demo'] ?? {} })).toEqual({
      name: 'a',
      count: 3,
      ok: false,
      ids: ['x', 'y'],
    });
    expect(demo.of({ name: '', count: '3', ok: 'yes', ids: 'x' })).toEqual({});
    expect(demo.of(undefined)).toEqual({});
    expect(demo.stepId).toBe('demo');
  });

  it('records only the fields that are set', () => {
    expect(demo.record({ name: 'a', count: undefined, ids: [] })).toEqual({ name: 'a', ids: [] });
  });

  it('reads a state document through stateOutputs', () => {
    const state = emptyState('c');
    state.steps.demo = { status: 'done', outputs: { name: 'from-state' } };
    expect(demo(stateOutputs(state)).name).toBe('from-state');
    expect(demo(stateOutputs(undefined))).toEqual({});
  });
});

describe('every step', () => {
  it('exports the reader of its own outputs from its own file', async () => {
    const dir = path.resolve(import.meta.dirname, '../../steps');
    const readers = new Map<string, string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts')) {
      const mod = (await import(path.join(dir, file))) as Record<string, unknown>;
      for (const v of Object.values(mod)) {
        const r = v as Partial<OutputReader<OutputShape>>;
        if (typeof v === 'function' && typeof r.stepId === 'string' && r.shape) readers.set(r.stepId, file);
      }
    }
    for (const step of steps) expect(readers.get(step.id), step.id).toBe(`${step.id}.ts`);
  });
});
