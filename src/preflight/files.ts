/**
 * Preflight: every local file and directory platform.yaml names exists, can be read and is of the right kind,
 * checked before anything is created. URLs (chart repositories, Flux's release manifests) are left to the
 * steps: they need the network.
 */
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ClusterConfig } from '../config/schema.js';
import type { PreflightProblem } from './problems.js';

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/** "a directory", "a file", or why it is neither readable: one short phrase, or undefined when it is fine. */
function kindProblem(p: string, want: 'file' | 'directory'): string | undefined {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${p} does not exist` : `${p} cannot be read (${code})`;
  }
  if (want === 'file' && !st.isFile()) return `${p} is not a file`;
  if (want === 'directory' && !st.isDirectory()) return `${p} is not a directory`;
  try {
    accessSync(p, want === 'directory' ? constants.R_OK | constants.X_OK : constants.R_OK);
  } catch {
    return `${p} is not readable by this user`;
  }
  return undefined;
}

/** A local chart source: the chart itself (Chart.yaml) or a directory of charts by name. */
function chartProblem(source: string, names: string[]): string | undefined {
  const bad = kindProblem(source, 'directory');
  if (bad) return bad;
  if (names.length === 1 && kindProblem(path.join(source, 'Chart.yaml'), 'file') === undefined) return undefined;
  const missing = names.filter((n) => kindProblem(path.join(source, n, 'Chart.yaml'), 'file') !== undefined);
  return missing.length
    ? `${source} holds no chart ${missing.join(', ')} (want <dir>/<chart>/Chart.yaml${names.length === 1 ? ' or <dir>/Chart.yaml' : ''})`
    : undefined;
}

/** The kubeconfig file: readable YAML with the configured context (when access is kubeconfig). */
async function kubeconfigProblem(file: string, context: string | undefined): Promise<string | undefined> {
  const bad = kindProblem(file, 'file');
  if (bad) return bad;
  const { parse } = await import('yaml');
  let doc: { contexts?: { name?: string }[]; 'current-context'?: string } | null;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch {
    return `${file} is not a kubeconfig (not YAML)`;
  }
  const names = (doc?.contexts ?? []).map((c) => c.name);
  const want = context ?? doc?.['current-context'];
  if (!want) return `${file} has no current-context and kubernetes.context is not set`;
  if (!names.includes(want)) return `${file} has no context ${want} (it has: ${names.join(', ') || 'none'})`;
  return undefined;
}

/**
 * Every file and directory the cluster entry names; `at` builds a field path ("vault.pgpKeys[1]"). The
 * --kubeconfig / --context flags, when given, replace the config's kubeconfig and context.
 */
export async function fileProblems(
  cluster: ClusterConfig,
  at: (field: string) => string,
  flags: { kubeconfig?: string; context?: string } = {},
): Promise<PreflightProblem[]> {
  const out: PreflightProblem[] = [];
  const add = (field: string, message: string | undefined) => {
    if (message) out.push({ field: field.startsWith('--') ? field : at(field), message });
  };
  const mod = cluster.terraform.module;
  const modBad = kindProblem(mod, 'directory');
  add('terraform.module', modBad);
  if (!modBad && !readdirSync(mod).some((f) => f.endsWith('.tf') || f.endsWith('.tofu')))
    add('terraform.module', `${mod} holds no .tf files: not a Terraform module`);
  const k = cluster.kubernetes;
  const [kcField, kc] = flags.kubeconfig ? ['--kubeconfig', flags.kubeconfig] : ['kubernetes.kubeconfig', k.kubeconfig];
  if (k.access === 'kubeconfig') {
    if (!kc) add('kubernetes.kubeconfig', 'must name a kubeconfig file when kubernetes.access is kubeconfig');
    else add(kcField, await kubeconfigProblem(kc, flags.context ?? k.context));
  } else if (kc) {
    // The access step writes its entry there: a path that exists must be a file.
    const st = (() => {
      try {
        return statSync(kc);
      } catch {
        return undefined;
      }
    })();
    if (st && !st.isFile()) add(kcField, `${kc} is not a file`);
  }
  if (cluster.flux.manifests && !isUrl(cluster.flux.manifests))
    add('flux.manifests', kindProblem(cluster.flux.manifests, 'file'));
  if (!isUrl(cluster.istio.charts))
    add('istio.charts', chartProblem(cluster.istio.charts, ['base', 'istiod', 'gateway']));
  if (!isUrl(cluster.vault.chart)) add('vault.chart', chartProblem(cluster.vault.chart, ['vault']));
  const known = cluster.fleet.knownHosts?.trim();
  if (known && !/\s(ssh-|ecdsa-|sk-)/.test(known)) {
    const bad = kindProblem(known, 'file');
    if (bad) add('fleet.knownHosts', `${bad} (give the known_hosts lines themselves, or a file holding them)`);
    else if (!/\s(ssh-|ecdsa-|sk-)/.test(readFileSync(known, 'utf8')))
      add('fleet.knownHosts', `${known} holds no host key lines`);
  }
  return out;
}
