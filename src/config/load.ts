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
  const result = platformSchema.safeParse(raw, { reportInput: true });
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
    storage: { ...c.storage, chart: rel(c.storage.chart) },
    vault: {
      ...c.vault,
      chart: rel(c.vault.chart),
      pgpKeys: c.vault.pgpKeys.map(rel),
      rootTokenPgpKey: c.vault.rootTokenPgpKey && rel(c.vault.rootTokenPgpKey),
    },
  };
}

/**
 * Expands ${VAR} in string values from the environment (the lab's example uses ${PLATCTL_LAB_DIR}); an unset
 * variable is a config error naming the field. $${VAR} keeps a literal ${VAR}.
 */
export function expandEnv(value: unknown, at: PropertyKey[], file: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (match, name: string) => {
      if (match.startsWith('$$')) return match.slice(1);
      const v = process.env[name];
      if (v === undefined) {
        throw new PlatctlError(
          'CONFIG_INVALID',
          `${file} is invalid:\n  ${formatPath(at)}: environment variable ${name} is not set`,
          {
            hint: name.startsWith('PLATCTL_LAB')
              ? 'run `source .lab/env` (after `npm run lab -- up`) first'
              : `export ${name}`,
          },
        );
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, [...at, i], file));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, [...at, k], file)]));
  }
  return value;
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
  const config = validateConfig(expandEnv(doc.toJS(), [], file), file);
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
