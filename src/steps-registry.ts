/**
 * Loads the ordered step list: steps/index.ts, or in a test the module of the PLATCTL_TEST_STEPS seam
 * (src/test-seams.ts).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Step } from './step.js';
import { testStepsModule } from './test-seams.js';

/** The ordered step list for this run. */
export async function loadSteps(): Promise<readonly Step[]> {
  const override = testStepsModule();
  if (override) {
    const mod = (await import(pathToFileURL(path.resolve(override)).href)) as { steps: readonly Step[] };
    return mod.steps;
  }
  return (await import('../steps/index.js')).steps;
}
