/**
 * The vault step's chart values and volumes: a new install names the storage step's class; an installed release
 * keeps the class its StatefulSet was made with (a volumeClaimTemplate cannot change), even none.
 */
import { describe, expect, it } from 'vitest';
import type { StepOutputs } from '../../src/state/types.js';
import { vaultSpec } from '../../steps/vault.js';
import { clusterConfig } from '../helpers/config.js';

const ctx = (outputs: Record<string, StepOutputs> = {}) => ({
  cluster: clusterConfig('prod'),
  outputs: (id: string) => outputs[id] ?? {},
});
const dataStorage = (values: Record<string, unknown>) => (values.server as { dataStorage?: unknown }).dataStorage;

describe('vault values: the Raft volumes', () => {
  it("a new install names the storage step's class, else storage.storageClass", () => {
    expect(dataStorage(vaultSpec(ctx({ storage: { storageClass: 'fast-ebs' } })).values)).toEqual({
      storageClass: 'fast-ebs',
    });
    expect(dataStorage(vaultSpec(ctx()).values)).toEqual({ storageClass: 'gp3' });
  });

  it('an installed release keeps its class, or none when it was installed without one', () => {
    const withClass = { server: { dataStorage: { storageClass: 'gp2' } } };
    expect(dataStorage(vaultSpec(ctx({ storage: { storageClass: 'gp3' } }), withClass).values)).toEqual({
      storageClass: 'gp2',
    });
    expect(
      dataStorage(vaultSpec(ctx({ storage: { storageClass: 'gp3' } }), { server: { ha: {} } }).values),
    ).toBeUndefined();
  });
});
