/**
 * The pipeline: every step, in order. This list is the only place the order is defined; teardown walks it
 * backwards. Tests may swap the list with PLATCTL_TEST_STEPS (see src/steps-registry.ts).
 */
import type { Step } from '../src/step.js';
import { accessStep } from './access.js';
import { accessEntriesStep } from './access-entries.js';
import { clusterStep } from './cluster.js';

/** The ordered steps of `platctl bootstrap`. */
export const steps: readonly Step[] = [clusterStep, accessStep, accessEntriesStep];
