/**
 * Loads the ordered step list. PLATCTL_TEST_STEPS (test-only) names a module exporting `steps`, so the engine's
 * integration tests can drive a real platctl process with test steps before the real ones exist.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Step } from './step.js';

/** The ordered step list for this run. */
export async function loadSteps(): Promise<readonly Step[]> {
  const override = process.env.PLATCTL_TEST_STEPS;
  if (override) {
    const mod = (await import(pathToFileURL(path.resolve(override)).href)) as { steps: readonly Step[] };
    return mod.steps;
  }
  return (await import('../steps/index.js')).steps;
}
