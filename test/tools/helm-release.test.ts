/**
 * Reading a Helm release from its storage Secret (the cheap checks' one request): decoding, and picking
 * the newest deployed revision. Secrets are built the way helm's storage driver writes them.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { KubeClient, KubeObject } from '../../src/clients/kube.js';
import { decodeRelease, readDeployedRelease } from '../../src/tools/helm-release.js';

/** The Secret data helm writes: base64(gzip(JSON)), then base64 again as Secret data. */
function secretData(release: Record<string, unknown>): string {
  const helmText = gzipSync(Buffer.from(JSON.stringify(release))).toString('base64');
  return Buffer.from(helmText).toString('base64');
}

const release = (version: number, replicas: number) => ({
  name: 'vault',
  namespace: 'vault',
  version,
  info: { status: 'deployed' },
  chart: { metadata: { name: 'vault', version: '0.34.1' } },
  config: { server: { ha: { replicas } } },
  manifest: 'kind: StatefulSet\n…',
});

describe('helm release secrets', () => {
  it('decodes name, revision, status, chart and values (not the manifest)', () => {
    expect(decodeRelease(secretData(release(2, 3)))).toEqual({
      name: 'vault',
      namespace: 'vault',
      revision: 2,
      status: 'deployed',
      chartName: 'vault',
      chartVersion: '0.34.1',
      values: { server: { ha: { replicas: 3 } } },
    });
    expect(decodeRelease('not base64 json')).toBeUndefined();
  });

  it('reads the newest deployed revision with one list request and the helm label selector', async () => {
    const calls: unknown[] = [];
    const items: KubeObject[] = [1, 3, 2].map((v) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `sh.helm.release.v1.vault.v${v}` },
      data: { release: secretData(release(v, v)) },
    }));
    const kube = {
      list: async (...args: unknown[]) => {
        calls.push(args);
        return items;
      },
    } as unknown as KubeClient;
    const r = await readDeployedRelease(kube, 'vault', 'vault');
    expect(r?.revision).toBe(3);
    expect(r?.values).toEqual({ server: { ha: { replicas: 3 } } });
    expect(calls).toEqual([
      ['v1', 'Secret', { namespace: 'vault', labelSelector: 'owner=helm,name=vault,status=deployed' }],
    ]);
  });
});
