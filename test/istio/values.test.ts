/** Istio revision naming, and the releases the istio step installs (the rendered values are in values.lab.test.ts). */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlatctlError } from '../../src/errors.js';
import { configRevision, injectionLabel, revisionName } from '../../src/istio/revision.js';
import { istioSpecs } from '../../src/istio/values.js';
import { helmCluster, ISTIO_CHARTS } from '../helpers/config.js';

describe('revision names', () => {
  it('turns a version into a DNS-label revision', () => {
    expect(revisionName('1.30.3')).toBe('1-30-3');
    expect(revisionName('1.31.0')).toBe('1-31-0');
    expect(() => revisionName('1.30')).toThrow(PlatctlError);
    expect(() => revisionName('latest')).toThrow(/not an Istio release/);
  });

  it('uses istio.revision when set, and labels namespaces with the first tag (the revision without tags)', () => {
    const c = helmCluster('rev-test');
    expect(configRevision(c)).toBe('1-30-3');
    expect(injectionLabel(c)).toBe('prod-stable');
    const pinned = helmCluster('rev-test', { istio: { version: '1.30.3', revision: 'blue', tags: [] } });
    expect(configRevision(pinned)).toBe('blue');
    expect(injectionLabel(pinned)).toBe('blue');
  });
});

describe('istio releases', () => {
  it('lists the three releases with the chart source from config', () => {
    const specs = istioSpecs(helmCluster('values-test'));
    expect(specs.map((s) => `${s.namespace}/${s.release}`)).toEqual([
      'istio-system/istio-base',
      'istio-system/istiod-1-30-3',
      'istio-ingress/istio-ingress',
    ]);
    expect(specs[1]?.chart).toEqual({ chart: path.join(ISTIO_CHARTS, 'istiod'), local: true });
    const remote = istioSpecs(
      helmCluster('values-test', { istio: { version: '1.30.3', charts: 'https://charts.example/istio' } }),
    );
    expect(remote[1]?.chart).toEqual({
      chart: 'istiod',
      repo: 'https://charts.example/istio',
      version: '1.30.3',
      local: false,
    });
  });
});
