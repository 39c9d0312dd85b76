/**
 * A child process for the kms crash test: `node --import tsx kms-crash-child.ts` runs the kms step's apply for
 * the cluster in PLATCTL_TEST_CLUSTER_JSON (with the other steps' outputs in PLATCTL_TEST_OUTPUTS_JSON) and
 * prints its outputs as JSON. Run with PLATCTL_TEST_CRASH=kms:after-create-key it SIGKILLs itself after CreateKey.
 */

import { createAwsClients } from '../../../src/clients/aws.js';
import { createExec } from '../../../src/clients/exec.js';
import { connectKube } from '../../../src/clients/kube.js';
import { createPrompter } from '../../../src/clients/prompt.js';
import type { ClusterConfig } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/log.js';
import type { StepOutputs } from '../../../src/state/types.js';
import { kmsStep } from '../../../steps/kms.js';

const cluster = JSON.parse(process.env.PLATCTL_TEST_CLUSTER_JSON ?? '{}') as ClusterConfig;
const outputs = JSON.parse(process.env.PLATCTL_TEST_OUTPUTS_JSON ?? '{}') as Record<string, StepOutputs>;
const out = await kmsStep.apply({
  cluster,
  log: createLogger(),
  exec: createExec(),
  aws: createAwsClients({ region: cluster.aws.region }),
  kube: () => connectKube({}),
  prompt: createPrompter({ yes: true, interactive: false }),
  dryRun: false,
  yes: true,
  deep: true,
  outputs: (id) => outputs[id] ?? {},
  progress: () => {},
});
process.stdout.write(`${JSON.stringify(out)}\n`);
