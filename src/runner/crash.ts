/**
 * Test-only fault injection. PLATCTL_TEST_CRASH=<step>:<point>[,<step>:<point>…] makes the process SIGKILL itself
 * at the first of those points it reaches,
 * so the fault-injection suite can prove that every kill resumes. Points: "start" (marked running, before
 * apply), "end" (apply returned, before marked done), and any named point a step passes to {@link crashPoint}.
 * Unset in every normal run; it does nothing then.
 *
 * PLATCTL_TEST_PAUSE=<step>:<point>=<file> holds the run at that point until <file> exists (at most 2 min), so a
 * test can race a second run against a lock that is certainly held. Also test-only.
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
