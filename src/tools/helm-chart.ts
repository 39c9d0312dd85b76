/**
 * Where a chart comes from: a repository URL (`helm … --repo <url> <chart> --version <v>`), an OCI registry
 * (`oci://host/path/<chart>`), or a local directory (the lab's fixtures). A local chart carries its own
 * version in Chart.yaml, which is what a release made from it reports, so checks compare against that.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PlatctlError } from '../errors.js';

/** A chart as helm is given it. */
export interface ChartSource {
  /** Chart name (with `repo`), `oci://…/<name>`, or a directory. */
  chart: string;
  repo?: string;
  /** Passed as --version for repository and OCI charts; unset for a local directory. */
  version?: string;
  /** True for a directory on disk. */
  local: boolean;
}

const isRepoUrl = (s: string) => /^https?:\/\//i.test(s);

/**
 * Resolves a config chart source. `source` is a repository URL, an `oci://` prefix, a directory holding the
 * chart (Chart.yaml inside) or a directory holding charts by name (`<source>/<name>/Chart.yaml`).
 */
export function chartSource(source: string, name: string, version: string): ChartSource {
  if (isRepoUrl(source)) return { chart: name, repo: source.replace(/\/+$/, ''), version, local: false };
  if (source.startsWith('oci://')) return { chart: `${source.replace(/\/+$/, '')}/${name}`, version, local: false };
  const dir = existsSync(path.join(source, 'Chart.yaml')) ? source : path.join(source, name);
  return { chart: dir, local: true };
}

/** The version of a local chart directory, from its Chart.yaml. */
export function localChartVersion(dir: string): string {
  let text: string;
  try {
    text = readFileSync(path.join(dir, 'Chart.yaml'), 'utf8');
  } catch (err) {
    throw new PlatctlError('CONFIG_INVALID', `chart directory ${dir} has no readable Chart.yaml`, {
      cause: err,
      hint: 'point the chart setting at a chart directory, or at a repository URL',
    });
  }
  const version = (parse(text) as { version?: unknown } | null)?.version;
  if (typeof version !== 'string' && typeof version !== 'number') {
    throw new PlatctlError('CONFIG_INVALID', `${dir}/Chart.yaml has no version`);
  }
  return String(version);
}

/** The chart version a release installed from `src` reports: the requested one, or the local Chart.yaml's. */
export function expectedChartVersion(src: ChartSource): string {
  return src.local ? localChartVersion(src.chart) : (src.version ?? '');
}

/** Splits helm's "chart" column ("istiod-1.30.3", "vault-0.34.1") into name and version. */
export function splitChartLabel(label: string): { name: string; version: string } {
  const m = /^(.*)-(v?\d+\.\d+\.\d+.*)$/.exec(label);
  return m ? { name: m[1] ?? label, version: m[2] ?? '' } : { name: label, version: '' };
}
