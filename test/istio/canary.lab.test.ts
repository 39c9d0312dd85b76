/**
 * Canary helpers that need no cluster: the order tags are listed in (it must match what the istio step
 * generates from config, or a finished upgrade would look like drift). The moves themselves are proved
 * against the lab in test/commands/istio-upgrade.lab.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { orderTags } from '../../src/istio/canary.js';
import { istiodValues } from '../../src/istio/values.js';
import { labCluster } from '../helpers/helm-context.js';
import { lab } from '../lab/env.js';

const cluster = labCluster(lab(), 'canary', { istio: { version: '1.30.3', tags: ['prod-stable', 'canary'] } });

describe('orderTags', () => {
  it('lists config tags in config order, then others sorted, without duplicates', () => {
    expect(orderTags(cluster, ['canary', 'prod-stable'])).toEqual(['prod-stable', 'canary']);
    expect(orderTags(cluster, ['zeta', 'canary', 'alpha', 'canary'])).toEqual(['canary', 'alpha', 'zeta']);
    expect(orderTags(cluster, [])).toEqual([]);
  });

  it('so a revision holding every config tag has exactly the values the step asks for', () => {
    const held = orderTags(cluster, ['canary', 'prod-stable']);
    expect(istiodValues(cluster, '1-30-4', held)).toEqual(istiodValues(cluster, '1-30-4', cluster.istio.tags));
  });
});
