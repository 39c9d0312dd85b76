/** Questions: a cancelled one (Ctrl-C, Esc) is an abort, exit 3, like answering no; no terminal is NO_TTY. */
import { describe, expect, it } from 'vitest';
import { createPrompter, type PromptRunner } from '../../src/clients/prompt.js';
import { isPlatctlError } from '../../src/errors.js';

const failing =
  (name: string): PromptRunner =>
  async () => {
    const err = new Error('User force closed the prompt with SIGINT');
    err.name = name;
    throw err;
  };

const caught = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('createPrompter', () => {
  it.each(['ExitPromptError', 'AbortPromptError'])(
    'turns %s into ABORTED (exit 3) naming the question',
    async (name) => {
      const prompt = createPrompter({ yes: false, interactive: true, runner: failing(name) });
      const err = await caught(prompt.confirm('Destroy cluster demo?'));
      expect(isPlatctlError(err) && err.code).toBe('ABORTED');
      expect(isPlatctlError(err) && err.exitCode).toBe(3);
      expect((err as Error).message).toContain('cancelled at "Destroy cluster demo?"');
    },
  );

  it('lets other failures through unchanged', async () => {
    const prompt = createPrompter({ yes: false, interactive: true, runner: failing('TypeError') });
    const err = await caught(prompt.input('Cluster name'));
    expect(isPlatctlError(err)).toBe(false);
    expect((err as Error).name).toBe('TypeError');
  });

  it('without a terminal refuses with NO_TTY and the flag to use; --yes answers yes without asking', async () => {
    const asked: string[] = [];
    const runner: PromptRunner = async <T>(_k: string, o: Record<string, unknown>) => {
      asked.push(String(o.message));
      return true as T;
    };
    const err = await caught(createPrompter({ yes: false, interactive: false, runner }).confirm('Go?'));
    expect(isPlatctlError(err) && err.code).toBe('NO_TTY');
    expect(isPlatctlError(err) && err.hint).toContain('--yes');
    expect(await createPrompter({ yes: true, interactive: false, runner }).confirm('Go?')).toBe(true);
    expect(asked).toEqual([]);
  });
});
