/**
 * The pipeline: every step, in order. This list is the only place the order is defined; teardown walks it
 * backwards. Tests may swap the list with PLATCTL_TEST_STEPS (see src/steps-registry.ts).
 */
import type { Step } from '../src/step.js';

/** The ordered steps of `platctl bootstrap`. */
export const steps: readonly Step[] = [];
