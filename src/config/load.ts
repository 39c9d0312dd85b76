/**
 * Loads platform.yaml: YAML → zod validation → every problem reported together with its field path.
 * Relative paths in the file are resolved against the file's directory.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { PlatctlError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { type ClusterConfig, type PlatformConfig, platformSchema } from './schema.js';

/** Formats a zod issue path the way users write it: clusters[0].vault.keyShares. */
export function formatPath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of p) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

/** Turns zod issues into "path: message" lines, one per problem (unknown keys one line each). */
export function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...issue.path, key])}: unknown key`);
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      lines.push(`${formatPath(issue.path)}: is required`);
    } else {
      lines.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  return lines;
}

/** Validates an already-parsed object; throws CONFIG_INVALID listing every problem. */
export function validateConfig(raw: unknown, source: string): PlatformConfig {
  const result = platformSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = formatIssues(result.error.issues);
  throw new PlatctlError(
    'CONFIG_INVALID',
    `${source} is invalid (${lines.length} problem${lines.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`,
    { hint: 'fix the fields above; `platctl config schema` prints the JSON Schema' },
  );
}

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('oci://');

/** Resolves the file paths in a cluster entry against the config file's directory. */
function resolvePaths(c: ClusterConfig, dir: string): ClusterConfig {
  const rel = (p: string) => (isUrl(p) || path.isAbsolute(p) ? p : path.resolve(dir, p));
  const module =
    c.terraform.module === 'templates/terraform/eks'
      ? path.join(packageRoot, c.terraform.module)
      : rel(c.terraform.module);
  return {
    ...c,
    kubernetes: { ...c.kubernetes, kubeconfig: c.kubernetes.kubeconfig && rel(c.kubernetes.kubeconfig) },
    terraform: { ...c.terraform, module },
    flux: { ...c.flux, manifests: c.flux.manifests && rel(c.flux.manifests) },
    istio: { ...c.istio, charts: rel(c.istio.charts) },
    vault: {
      ...c.vault,
      chart: rel(c.vault.chart),
      pgpKeys: c.vault.pgpKeys.map(rel),
      rootTokenPgpKey: c.vault.rootTokenPgpKey && rel(c.vault.rootTokenPgpKey),
    },
  };
}

/** Reads, parses and validates a platform.yaml. Every error is a PlatctlError with exit code 2. */
export async function loadConfig(file: string): Promise<PlatformConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PlatctlError('CONFIG_NOT_FOUND', `cannot read config ${file}: ${(err as NodeJS.ErrnoException).code}`, {
      cause: err,
      hint: 'pass --config <file>, or run `platctl init` to write one',
    });
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`);
    throw new PlatctlError('CONFIG_INVALID', `${file} is not valid YAML:\n  ${lines.join('\n  ')}`);
  }
  const config = validateConfig(doc.toJS(), file);
  const dir = path.dirname(path.resolve(file));
  return { ...config, clusters: config.clusters.map((c) => resolvePaths(c, dir)) };
}

/** Picks one cluster by name, or fails naming the clusters the file does define. */
export function selectCluster(config: PlatformConfig, name: string, file: string): ClusterConfig {
  const cluster = config.clusters.find((c) => c.name === name);
  if (!cluster) {
    const names = config.clusters.map((c) => c.name).join(', ');
    throw new PlatctlError('CLUSTER_NOT_IN_CONFIG', `cluster "${name}" is not in ${file} (it defines: ${names})`);
  }
  return cluster;
}
