/**
 * Drives a list of step tasks with listr2: a live task list with sub-output on a TTY, plain verb lines
 * (► start, ✔ done / up to date, ✗ failed, with durations) otherwise. The step logic itself lives in
 * pipeline.ts; this file only renders.
 */

import type { DefaultRenderer, ListrTaskWrapper, SimpleRenderer } from 'listr2';
import { type PromptRunner, promptFunction } from '../clients/prompt.js';
import { createLogger, type Logger } from '../log.js';
import { maskSecrets } from '../secrets.js';
import { formatDuration, type StepReport } from './report.js';

/** What a task body gets: where to send its lines and how to prompt. */
export interface TaskIo {
  log: Logger;
  progress(message: string): void;
  promptRunner?: PromptRunner;
}

/** One unit of work for the driver. */
export interface DriveTask {
  id: string;
  title: string;
  run(io: TaskIo): Promise<StepReport>;
}

const verbFor = (r: StepReport) => {
  if (r.result === 'failed') return 'failure' as const;
  if (r.result === 'not-applied' || r.result === 'not-reached' || r.result === 'skipped') return 'info' as const;
  return 'success' as const;
};

const words: Record<StepReport['result'], string> = {
  applied: 'done',
  'up-to-date': 'up to date',
  'would-apply': 'would apply',
  failed: 'failed',
  destroyed: 'destroyed',
  'would-destroy': 'would destroy',
  'not-applied': 'not applied, nothing to destroy',
  'not-reached': 'not reached',
  done: 'done',
  skipped: 'nothing to do',
};

/** Runs tasks one after another, stopping at the first failure (unless keepGoing). Returns each task's report. */
export async function drive(
  tasks: DriveTask[],
  opts: { tty: boolean; log: Logger; debug?: boolean; colour?: boolean; keepGoing?: boolean },
): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  const line = (r: StepReport) =>
    `${r.id}: ${words[r.result]}${r.result === 'failed' || r.result === 'up-to-date' ? '' : r.detail ? ` (${r.detail})` : ''}${r.result === 'failed' ? `: ${r.detail}` : ''} [${formatDuration(r.durationMs)}]`;

  if (!opts.tty) {
    for (const t of tasks) {
      opts.log.action(`${t.id}: ${t.title}`);
      const indent = createLogger({ debug: opts.debug, write: (l) => process.stderr.write(`  ${l}\n`) });
      const r = await t.run({ log: indent, progress: (m) => indent.info(m) });
      reports.push(r);
      opts.log[verbFor(r)](line(r));
      if (r.result === 'failed' && !opts.keepGoing) break;
    }
    return reports;
  }

  const { Listr } = await import('listr2');
  const { ListrInquirerPromptAdapter } = await import('@listr2/prompt-adapter-inquirer');
  const list = new Listr(
    tasks.map((t) => ({
      title: t.title,
      rendererOptions: { outputBar: 4 },
      task: async (_: unknown, task: ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>) => {
        const toTask = createLogger({ debug: opts.debug, colour: opts.colour, write: (l) => (task.output = l) });
        const promptRunner: PromptRunner = async <T>(
          kind: 'confirm' | 'input' | 'password',
          o: Record<string, unknown>,
        ) => {
          const fn = await promptFunction(kind);
          const adapter = task.prompt(ListrInquirerPromptAdapter) as unknown as {
            run(f: unknown, c: unknown): Promise<unknown>;
          };
          return (await adapter.run(fn, o)) as T;
        };
        const r = await t.run({ log: toTask, progress: (m) => (task.output = maskSecrets(m)), promptRunner });
        reports.push(r);
        task.title = `${t.title} — ${line(r)}`;
        if (r.result === 'failed') throw new Error(r.detail);
      },
    })),
    {
      concurrent: false,
      exitOnError: !opts.keepGoing,
      rendererOptions: { collapseSubtasks: false },
      fallbackRenderer: 'simple',
    },
  );
  try {
    await list.run();
  } catch {
    // the failing task's report carries the error
  }
  return reports;
}
