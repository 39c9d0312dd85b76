/** Which security groups the network step works on, from the cluster step's outputs (new and old names). */
import { describe, expect, it } from 'vitest';
import { createStepContext } from '../../src/runner/context.js';
import { groupsOf } from '../../steps/network.js';
import { clusterConfig } from '../helpers/config.js';
import { memoryLogger } from '../helpers/memory-logger.js';

const withCluster = (outputs: Record<string, string>) =>
  createStepContext({ cluster: clusterConfig('demo'), log: memoryLogger(), outputs: { cluster: outputs } });

describe('groupsOf', () => {
  it('reads the control plane additional group and the node shared group', () => {
    const ctx = withCluster({ clusterAdditionalSecurityGroupId: 'sg-a', nodeSharedSecurityGroupId: 'sg-n' });
    expect(groupsOf(ctx)).toEqual({ cluster: 'sg-a', node: 'sg-n' });
  });

  it('reads a state recorded before the outputs were renamed', () => {
    const ctx = withCluster({ clusterSecurityGroupId: 'sg-old', nodeSecurityGroupId: 'sg-oldn' });
    expect(groupsOf(ctx)).toEqual({ cluster: 'sg-old', node: 'sg-oldn' });
  });

  it('is unknown when either is missing', () => {
    expect(groupsOf(withCluster({ clusterAdditionalSecurityGroupId: 'sg-a' }))).toBeUndefined();
  });
});
