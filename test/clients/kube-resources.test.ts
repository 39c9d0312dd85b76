import { describe, expect, it } from 'vitest';
import { collectionPath, knownResource } from '../../src/clients/kube-resources.js';

describe('known resources', () => {
  it('the kinds a no-op re-run reads are addressed without a discovery request', () => {
    // One per step's cheap check: a discovery GET would be one more request on every run.
    const reads: [string, string][] = [
      ['v1', 'Namespace'],
      ['v1', 'ConfigMap'],
      ['v1', 'Secret'],
      ['batch/v1', 'CronJob'],
      ['storage.k8s.io/v1', 'StorageClass'],
      ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration'],
      ['kustomize.toolkit.fluxcd.io/v1', 'Kustomization'],
    ];
    for (const [apiVersion, kind] of reads) expect(knownResource(apiVersion, kind), kind).toBeDefined();
  });

  it('builds cluster-scoped and namespaced collection paths', () => {
    const sc = knownResource('storage.k8s.io/v1', 'StorageClass');
    const pvc = knownResource('v1', 'PersistentVolumeClaim');
    expect(sc && collectionPath('storage.k8s.io/v1', sc, 'ignored')).toBe('/apis/storage.k8s.io/v1/storageclasses');
    expect(pvc && collectionPath('v1', pvc, 'vault')).toBe('/api/v1/namespaces/vault/persistentvolumeclaims');
    expect(knownResource('example.com/v1', 'Widget')).toBeUndefined();
  });
});
