/**
 * A child process for the kms crash test: `node --import tsx kms-crash-child.ts` runs the kms step's apply for
 * the cluster in PLATCTL_TEST_CLUSTER_JSON (with the other steps' outputs in PLATCTL_TEST_OUTPUTS_JSON) and
 * prints its outputs as JSON. Run with PLATCTL_TEST_CRASH=kms:after-create-key it SIGKILLs itself after CreateKey.
 */

import type { ClusterConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { createStepContext } from '../../src/runner/context.js';
import type { StepOutputs } from '../../src/state/types.js';
import { kmsStep } from '../../steps/kms.js';

const cluster = JSON.parse(process.env.PLATCTL_TEST_CLUSTER_JSON ?? '{}') as ClusterConfig;
const outputs = JSON.parse(process.env.PLATCTL_TEST_OUTPUTS_JSON ?? '{}') as Record<string, StepOutputs>;
const out = await kmsStep.apply(
  createStepContext({ cluster, log: createLogger(), yes: true, outputs, progress: () => {} }),
);
process.stdout.write(`${JSON.stringify(out)}\n`);
