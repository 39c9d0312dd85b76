/**
 * Questions to the user behind a narrow interface. With --yes every confirmation is yes; without a terminal
 * a question that needs an answer fails and names the flag to use. Hidden input never echoes.
 */
import { PlatctlError } from '../errors.js';

/** Asks the user things. */
export interface Prompter {
  readonly interactive: boolean;
  /** Yes/no; true without asking under --yes. */
  confirm(message: string, opts?: { default?: boolean }): Promise<boolean>;
  input(message: string, opts?: { default?: string; validate?: (v: string) => true | string }): Promise<string>;
  /** Hidden input (a Vault unseal share); never echoed, never logged. */
  secret(message: string): Promise<string>;
}

/** How prompts are actually shown: plain @inquirer/prompts, or through listr2's adapter inside a task. */
export type PromptRunner = <T>(kind: 'confirm' | 'input' | 'password', options: Record<string, unknown>) => Promise<T>;

/** The @inquirer/prompts function for a kind of question (imported lazily). */
export async function promptFunction(kind: 'confirm' | 'input' | 'password'): Promise<(o: never) => Promise<unknown>> {
  const prompts = await import('@inquirer/prompts');
  return { confirm: prompts.confirm, input: prompts.input, password: prompts.password }[kind] as unknown as (
    o: never,
  ) => Promise<unknown>;
}

/** Plain @inquirer/prompts on the terminal. */
export const inquirerRunner: PromptRunner = async <T>(
  kind: 'confirm' | 'input' | 'password',
  options: Record<string, unknown>,
) => (await promptFunction(kind))(options as never) as Promise<T>;

/** @inquirer's errors for a question the user left (Ctrl-C, Esc) rather than answered. */
const CANCELLED = new Set(['ExitPromptError', 'AbortPromptError', 'CancelPromptError']);

/** A runner whose cancelled questions become ABORTED (exit 3), like a "no". */
export function cancelAsAbort(runner: PromptRunner): PromptRunner {
  return async <T>(kind: 'confirm' | 'input' | 'password', options: Record<string, unknown>) => {
    try {
      return await runner<T>(kind, options);
    } catch (err) {
      if (!CANCELLED.has((err as Error)?.name)) throw err;
      throw new PlatctlError('ABORTED', `cancelled at "${String(options.message)}": nothing more was changed`, {
        cause: err,
      });
    }
  };
}

/** Creates a {@link Prompter}. */
export function createPrompter(opts: { yes: boolean; interactive: boolean; runner?: PromptRunner }): Prompter {
  const runner = cancelAsAbort(opts.runner ?? inquirerRunner);
  const needTty = (what: string, flag: string) =>
    new PlatctlError('NO_TTY', `cannot ask "${what}" without a terminal`, { hint: `pass ${flag}` });
  return {
    interactive: opts.interactive,
    async confirm(message, o = {}) {
      if (opts.yes) return true;
      if (!opts.interactive) throw needTty(message, '--yes to confirm non-interactively');
      return runner<boolean>('confirm', { message, default: o.default ?? false });
    },
    async input(message, o = {}) {
      if (!opts.interactive) {
        if (o.default !== undefined) return o.default;
        throw needTty(message, 'the value as a flag or in platform.yaml');
      }
      return runner<string>('input', { message, default: o.default, validate: o.validate });
    },
    async secret(message) {
      if (!opts.interactive) throw needTty(message, 'a terminal (secrets are never taken from flags)');
      return runner<string>('password', { message, mask: '*' });
    },
  };
}
