/** Choosing which steps run (--from, --only) and hashing a step's inputs. */
import { createHash } from 'node:crypto';
import { PlatctlError } from '../errors.js';
import type { Step } from '../step.js';

/** Returns the steps to run, in order, honouring --from and --only (ids). */
export function selectSteps(all: readonly Step[], opts: { from?: string; only?: string }): Step[] {
  const find = (id: string, flag: string) => {
    const i = all.findIndex((s) => s.id === id);
    if (i < 0) {
      throw new PlatctlError('UNKNOWN_STEP', `${flag} ${id}: no such step`, {
        hint: `steps are: ${all.map((s) => s.id).join(', ')}`,
      });
    }
    return i;
  };
  if (opts.from && opts.only) throw new PlatctlError('USAGE', '--from and --only cannot be used together');
  if (opts.only) return [all[find(opts.only, '--only')]!];
  if (opts.from) return all.slice(find(opts.from, '--from'));
  return [...all];
}

/** JSON with sorted keys, so equal inputs hash equally. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** A short hash of a step's inputs. */
export function hashInputs(inputs: unknown): string {
  return createHash('sha256').update(stable(inputs)).digest('hex').slice(0, 16);
}
