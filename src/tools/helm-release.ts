/**
 * Reading a Helm release straight from its storage Secret (`sh.helm.release.v1.<name>.v<n>`, labels
 * owner=helm,name=<name>,status=<status>), so a cheap check costs exactly one Kubernetes list request and no
 * helm process. The Secret's `release` key holds base64(gzip(JSON)) of the release (inside the usual Secret
 * base64). Only the fields platctl compares are kept: never the manifest.
 */
import { gunzipSync } from 'node:zlib';
import type { KubeClient, KubeObject } from '../clients/kube.js';

/** The parts of a stored release a check needs. */
export interface StoredRelease {
  name: string;
  namespace: string;
  revision: number;
  status: string;
  chartName: string;
  chartVersion: string;
  /** The user-supplied values. */
  values: Record<string, unknown>;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Decodes the `release` field of a Helm storage Secret (the Secret's own base64 already removed or not). */
export function decodeRelease(secretData: string): StoredRelease | undefined {
  try {
    // Secret data → helm's base64 text → maybe gzip → JSON.
    const inner = Buffer.from(Buffer.from(secretData, 'base64').toString('utf8'), 'base64');
    const raw = inner[0] === GZIP_MAGIC[0] && inner[1] === GZIP_MAGIC[1] ? gunzipSync(inner) : inner;
    const doc = JSON.parse(raw.toString('utf8')) as {
      name?: string;
      namespace?: string;
      version?: number;
      info?: { status?: string };
      chart?: { metadata?: { name?: string; version?: string } };
      config?: Record<string, unknown> | null;
    };
    return {
      name: doc.name ?? '',
      namespace: doc.namespace ?? '',
      revision: Number(doc.version ?? 0),
      status: doc.info?.status ?? 'unknown',
      chartName: doc.chart?.metadata?.name ?? '',
      chartVersion: doc.chart?.metadata?.version ?? '',
      values: doc.config ?? {},
    };
  } catch {
    return undefined;
  }
}

/**
 * The deployed revision of a release, read with ONE list request (label selector owner=helm,name,status=deployed).
 * undefined when no deployed revision exists (absent, failed or pending).
 */
export async function readDeployedRelease(
  kube: KubeClient,
  release: string,
  namespace: string,
): Promise<StoredRelease | undefined> {
  const items = await kube.list<KubeObject & { data?: Record<string, string> }>('v1', 'Secret', {
    namespace,
    labelSelector: `owner=helm,name=${release},status=deployed`,
  });
  const newest = items
    .map((s) => (s.data?.release ? decodeRelease(s.data.release) : undefined))
    .filter((r): r is StoredRelease => r !== undefined)
    .sort((a, b) => b.revision - a.revision)[0];
  return newest;
}
