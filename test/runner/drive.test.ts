/**
 * The runner's output without a terminal (CI, pipes): one ► line per step, its work indented under it, then
 * ✔ or ✗ with the result and the duration; it stops at the first failure. (A TTY gets listr2's live list.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type DriveTask, drive } from '../../src/runner/drive.js';
import { memoryLogger } from '../helpers/memory-logger.js';

const task = (id: string, result: 'applied' | 'up-to-date' | 'failed', detail = ''): DriveTask => ({
  id,
  title: `title of ${id}`,
  async run(io) {
    io.log.created(`made something in ${id}`);
    io.progress(`halfway through ${id}`);
    return { id, title: `title of ${id}`, result, detail, durationMs: id === 'b' ? 1500 : 20 };
  },
});

afterEach(() => vi.restoreAllMocks());

describe('drive without a terminal', () => {
  it('prints ► / indented work / ✔ or ✗ with durations, and stops at the first failure', async () => {
    const indented: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      indented.push(String(chunk));
      return true;
    });
    const log = memoryLogger();
    const reports = await drive(
      [
        task('a', 'up-to-date'),
        task('b', 'applied', '+ a thing'),
        task('c', 'failed', 'it broke'),
        task('d', 'applied'),
      ],
      { tty: false, log },
    );
    expect(reports.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(log.lines).toEqual([
      '► a: title of a',
      '✔ a: up to date [20ms]',
      '► b: title of b',
      '✔ b: done (+ a thing) [1.5s]',
      '► c: title of c',
      '✗ c: failed: it broke [20ms]',
    ]);
    // The step's own lines go to stderr, indented under its ► line.
    expect(indented).toContain('  ✚ made something in a\n');
    expect(indented).toContain('    halfway through b\n');
    expect(indented.join('')).not.toContain(' d');
  });
});
