/**
 * Test-only fault injection. PLATCTL_TEST_CRASH=<step>:<point>[,<step>:<point>…] makes the process SIGKILL itself
 * at the first of those points it reaches,
 * so the fault-injection suite can prove that every kill resumes. Points: "start" (marked running, before
 * apply), "end" (apply returned, before marked done), and any named point a step passes to {@link crashPoint}.
 * Unset in every normal run; it does nothing then.
 */

/** Kills this process with SIGKILL when PLATCTL_TEST_CRASH names this step and point. */
export function crashPoint(stepId: string, point: string): void {
  const want = process.env.PLATCTL_TEST_CRASH;
  const here = `${stepId}:${point}`;
  if (!want?.split(',').includes(here)) return;
  process.stderr.write(`PLATCTL_TEST_CRASH: killing myself at ${here}\n`);
  process.kill(process.pid, 'SIGKILL');
}
