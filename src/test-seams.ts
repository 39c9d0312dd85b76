/**
 * Every test-only seam of the CLI, in one place. Each reads a PLATCTL_TEST_* variable that no normal run sets, and
 * does nothing without it; no other product file reads one (test/test-seams.test.ts checks). The tests that use
 * them drive a real platctl process, so a seam has to live in the product code; keeping them here lets a reader of
 * a step see at once that `crashPoint(...)` is a test hook, and find every hook in one file.
 *
 * - PLATCTL_TEST_CRASH=<step>:<point>[,<step>:<point>…]: the process SIGKILLs itself at the first of those points
 *   it reaches, so the fault-injection matrix can prove that every kill resumes. Points: "start" (marked running,
 *   before apply), "end" (apply returned, before marked done), and any named point a step passes to
 *   {@link crashPoint}.
 * - PLATCTL_TEST_PAUSE=<step>:<point>=<file>: the run holds at that point until <file> exists (at most 2 min), so a
 *   test can race a second run against a lock that is certainly held.
 * - PLATCTL_TEST_STEPS=<module>: the run's step list comes from that module's `steps` export, so the engine's
 *   tests drive a real platctl process with test steps ({@link testStepsModule}).
 *
 * Test-only helpers that the product never calls (a logger that records lines, fakes, lab contexts) live under
 * test/helpers/, not here.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Kills this process with SIGKILL when PLATCTL_TEST_CRASH names this step and point. */
export function crashPoint(stepId: string, point: string): void {
  const want = process.env.PLATCTL_TEST_CRASH;
  const here = `${stepId}:${point}`;
  if (!want?.split(',').includes(here)) return;
  process.stderr.write(`PLATCTL_TEST_CRASH: killing myself at ${here}\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Waits at this step and point while PLATCTL_TEST_PAUSE names them, until its file exists. */
export async function pausePoint(stepId: string, point: string): Promise<void> {
  const want = process.env.PLATCTL_TEST_PAUSE;
  if (!want) return;
  const at = want.indexOf('=');
  const here = `${stepId}:${point}`;
  const file = want.slice(at + 1);
  if (at < 0 || want.slice(0, at) !== here || !file) return;
  process.stderr.write(`PLATCTL_TEST_PAUSE: holding at ${here} until ${file} exists\n`);
  for (let i = 0; i < 1200 && !existsSync(file); i++) await sleep(100);
}

/** The module PLATCTL_TEST_STEPS names in place of steps/index.ts, or undefined in a normal run. */
export function testStepsModule(): string | undefined {
  return process.env.PLATCTL_TEST_STEPS || undefined;
}
