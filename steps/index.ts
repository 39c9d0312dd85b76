/**
 * The pipeline: every step, in order. This list is the only place the order is defined; teardown walks it
 * backwards. Tests may swap the list with the PLATCTL_TEST_STEPS seam (src/test-seams.ts).
 */
import type { Step } from '../src/step.js';
import { accessStep } from './access.js';
import { accessEntriesStep } from './access-entries.js';
import { clusterStep } from './cluster.js';
import { fluxStep } from './flux.js';
import { fluxSecretStep } from './flux-secret.js';
import { iamStep } from './iam.js';
import { istioStep } from './istio.js';
import { kmsStep } from './kms.js';
import { networkStep } from './network.js';
import { registryStep } from './registry.js';
import { storageStep } from './storage.js';
import { varsStep } from './vars.js';
import { vaultStep } from './vault.js';
import { vaultInitStep } from './vault-init.js';

/** The ordered steps of `platctl bootstrap`. */
export const steps: readonly Step[] = [
  clusterStep,
  accessStep,
  accessEntriesStep,
  iamStep,
  kmsStep,
  networkStep,
  registryStep,
  storageStep,
  istioStep,
  vaultStep,
  vaultInitStep,
  fluxSecretStep,
  varsStep,
  fluxStep,
];
