/**
 * Helm's failure modes, recognised from its stderr and turned into errors a human can act on. Used through
 * runTool() (src/tools/tool-errors.ts), like the Terraform wrapper's translators.
 */
import { PlatctlError } from '../errors.js';
import { type FailureTranslator, lastLines } from './tool-errors.js';

/** True when helm said the release does not exist (status, get values, uninstall of an absent release). */
export function isReleaseNotFound(stderr: string): boolean {
  return /release: not found|Release not loaded/i.test(stderr);
}

const releaseOf = (args: readonly string[]) => {
  // helm <verb> [--install] <release> …: the first non-flag word after the verb.
  const words = args.slice(1).filter((a) => !a.startsWith('-'));
  return words[0] ?? 'the release';
};
const namespaceOf = (args: readonly string[]) => {
  const i = args.indexOf('--namespace');
  return i >= 0 ? (args[i + 1] ?? 'default') : 'default';
};

/** A release stuck in pending-install/upgrade/rollback: an earlier helm run was killed. */
export const helmPendingTranslator: FailureTranslator = (f) => {
  if (!/another operation \(install\/upgrade\/rollback\) is in progress/i.test(f.stderr)) return undefined;
  const rel = releaseOf(f.args);
  return new PlatctlError('TOOL_FAILED', `${f.what}: helm release ${rel} is locked by an interrupted helm run`, {
    hint: `platctl rolls a pending release back on its next run; by hand: helm rollback ${rel} -n ${namespaceOf(f.args)}`,
  });
};

/** The cluster cannot be reached with the kubeconfig helm was given. */
export const helmUnreachableTranslator: FailureTranslator = (f) => {
  if (!/Kubernetes cluster unreachable|connection refused|no such host|i\/o timeout/i.test(f.stderr)) return undefined;
  return new PlatctlError(
    'KUBE_UNREACHABLE',
    `${f.what}: the Kubernetes API is unreachable (${lastLines(f.stderr, 1)})`,
    {
      hint: 'check kubernetes.kubeconfig/context in platform.yaml, or run `platctl doctor`',
    },
  );
};

/** An object the chart renders already exists and belongs to someone else (another release, kubectl). */
export const helmOwnershipTranslator: FailureTranslator = (f) => {
  const m = /([\w.-]+ "[^"]+")(?: in namespace "[^"]*")? exists and cannot be imported into the current release/i.exec(
    f.stderr,
  );
  if (!m) return undefined;
  return new PlatctlError('TOOL_FAILED', `${f.what}: ${m[1]} already exists and is not owned by this release`, {
    hint: 'delete it, or label/annotate it for adoption (meta.helm.sh/release-name, meta.helm.sh/release-namespace)',
  });
};

/** The chart could not be found or downloaded. */
export const helmChartTranslator: FailureTranslator = (f) => {
  if (
    !/failed to download|not found in .* repository|no chart (name|version) found|path ".*" not found/i.test(f.stderr)
  )
    return undefined;
  return new PlatctlError('TOOL_FAILED', `${f.what}: chart not available (${lastLines(f.stderr, 1)})`, {
    hint: 'check the chart source and version in platform.yaml (istio.charts/version, vault.chart/chartVersion)',
  });
};

/** An admission webhook the API server calls timed out: on EKS, usually the 15017 rule (see the network step). */
export const helmWebhookTranslator: FailureTranslator = (f) => {
  const m = /failed calling webhook "([^"]+)"/i.exec(f.stderr);
  if (!m) return undefined;
  return new PlatctlError('TOOL_FAILED', `${f.what}: the API server could not call webhook ${m[1]}`, {
    hint: 'the control plane must reach istiod on port 15017 (network step, docs/steps/network.md), and istiod must be running',
  });
};

/** Every Helm translator, in the order they are tried. */
export const helmTranslators: readonly FailureTranslator[] = [
  helmPendingTranslator,
  helmUnreachableTranslator,
  helmOwnershipTranslator,
  helmChartTranslator,
  helmWebhookTranslator,
];
