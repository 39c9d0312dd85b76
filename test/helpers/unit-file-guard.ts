/**
 * Around every file of the unit project (vitest setupFiles). The unit project runs without isolation (one
 * module registry per worker, so the AWS SDK and the Kubernetes client are imported once, not once per file):
 * a file must therefore leave the process as it found it. What it left changed — environment variables,
 * stubbed globals, fake timers, spies, the wait reporter — is put back here, and the file fails naming it, so
 * a leak is fixed where it starts instead of breaking whichever file happens to run next.
 */
import { afterAll, beforeAll, vi } from 'vitest';
import { setNoticeInterval, setWaitReporter } from '../../src/clients/waiting.js';

let env: Record<string, string | undefined>;
let cwd: string;
let fetchBefore: typeof fetch;

beforeAll(() => {
  env = { ...process.env };
  cwd = process.cwd();
  fetchBefore = globalThis.fetch;
});

afterAll(() => {
  const left: string[] = [];
  for (const k of new Set([...Object.keys(env), ...Object.keys(process.env)])) {
    if (process.env[k] === env[k]) continue;
    left.push(`environment variable ${k}`);
    if (env[k] === undefined) delete process.env[k];
    else process.env[k] = env[k];
  }
  if (globalThis.fetch !== fetchBefore) left.push('a stubbed global fetch');
  if (vi.isFakeTimers()) left.push('fake timers');
  if (process.cwd() !== cwd) {
    left.push(`the working directory (${process.cwd()})`);
    process.chdir(cwd);
  }
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
  vi.useRealTimers();
  vi.restoreAllMocks();
  // Module state a test may set: the wait reporter and its interval go back to their defaults.
  setWaitReporter(undefined);
  setNoticeInterval(10_000);
  if (left.length > 0) throw new Error(`this test file left changed: ${left.join(', ')}; restore it in afterAll`);
});
