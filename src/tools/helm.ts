/**
 * A small Helm wrapper over ctx.exec: status, get values, upgrade --install, uninstall, list, rollback. The
 * binary is `helm` from PATH (PLATCTL_HELM overrides it). Values always travel in a file written 0600 into a
 * private temp directory that is removed afterwards, never on argv. Failures go through the shared tool
 * error translation (src/tools/tool-errors.ts) with Helm's own translators (src/tools/helm-errors.ts).
 *
 * No command waits for workloads: helm 3 does not wait unless told to (`--wait`), and we never tell it to,
 * because readiness is not helm's business here (the lab has no kubelet, and a real cluster reports it anyway).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Exec, ExecResult } from '../clients/exec.js';
import type { KubeTarget } from '../clients/kube-target.js';
import { writeFileAtomic } from '../fs-atomic.js';
import type { StepContext } from '../step.js';
import type { ChartSource } from './helm-chart.js';
import { helmTranslators, isReleaseNotFound } from './helm-errors.js';
import { failedResult, runTool } from './tool-errors.js';

/** Which cluster helm talks to: --kubeconfig/--kube-context (unset: helm's own KUBECONFIG handling). */
export type HelmTarget = KubeTarget;

/** One row of `helm list -o json`. */
export interface HelmReleaseInfo {
  name: string;
  namespace: string;
  revision: number;
  /** deployed, failed, pending-install, pending-upgrade, pending-rollback, uninstalling, superseded. */
  status: string;
  /** "istiod-1.30.3": chart name and version. */
  chart: string;
  appVersion: string;
}

/** What `helm status -o json` says about a release. */
export interface HelmStatus {
  status: string;
  revision: number;
  /** The user-supplied values (the release's `config`). */
  values: Record<string, unknown>;
}

/** An `upgrade --install`. */
export interface HelmUpgrade {
  release: string;
  namespace: string;
  chart: ChartSource;
  values: Record<string, unknown>;
}

/** The Helm operations platctl uses. */
export interface Helm {
  readonly binary: string;
  list(opts?: { namespace?: string; filter?: string }): Promise<HelmReleaseInfo[]>;
  /** undefined when the release does not exist. */
  status(release: string, namespace: string): Promise<HelmStatus | undefined>;
  /** `helm get values -o json`: the user-supplied values; undefined when the release does not exist. */
  getValues(release: string, namespace: string): Promise<Record<string, unknown> | undefined>;
  upgradeInstall(o: HelmUpgrade): Promise<void>;
  /** false when the release was already gone. */
  uninstall(release: string, namespace: string): Promise<boolean>;
  /** Rolls back to the previous revision (recovers a release left pending by a killed run). */
  rollback(release: string, namespace: string): Promise<void>;
}

const asObject = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Creates a {@link Helm} over an {@link Exec}. `debug` receives helm's progress lines. */
export function createHelm(exec: Exec, target: HelmTarget = {}, opts: { debug?: (line: string) => void } = {}): Helm {
  const binary = process.env.PLATCTL_HELM || 'helm';
  const kubeArgs = [
    ...(target.kubeconfig ? ['--kubeconfig', target.kubeconfig] : []),
    ...(target.context ? ['--kube-context', target.context] : []),
  ];
  const run = (args: string[], what: string): Promise<ExecResult> =>
    runTool(exec, binary, [...args, ...kubeArgs], {
      what,
      translate: helmTranslators,
      onLine: opts.debug,
    });
  /** Runs a read that may legitimately find no release. */
  const runOrAbsent = async (args: string[], what: string): Promise<ExecResult | undefined> => {
    try {
      return await run(args, what);
    } catch (err) {
      const r = (err as { result?: ExecResult }).result ?? failedResult(err);
      if (r && isReleaseNotFound(r.stderr)) return undefined;
      throw err;
    }
  };

  return {
    binary,
    async list(o = {}) {
      const scope = o.namespace ? ['--namespace', o.namespace] : ['--all-namespaces'];
      const filter = o.filter ? ['--filter', o.filter] : [];
      const r = await run(['list', '--all', '--output', 'json', ...scope, ...filter], 'helm list');
      const rows = JSON.parse(r.stdout || '[]') as Record<string, unknown>[];
      return rows.map((row) => ({
        name: String(row.name),
        namespace: String(row.namespace),
        revision: Number(row.revision),
        status: String(row.status),
        chart: String(row.chart),
        appVersion: String(row.app_version ?? ''),
      }));
    },
    async status(release, namespace) {
      const r = await runOrAbsent(
        ['status', release, '--namespace', namespace, '--output', 'json'],
        `helm status ${namespace}/${release}`,
      );
      if (!r) return undefined;
      const doc = JSON.parse(r.stdout) as { info?: { status?: string }; version?: number; config?: unknown };
      return {
        status: doc.info?.status ?? 'unknown',
        revision: Number(doc.version ?? 0),
        values: asObject(doc.config),
      };
    },
    async getValues(release, namespace) {
      const r = await runOrAbsent(
        ['get', 'values', release, '--namespace', namespace, '--output', 'json'],
        `helm get values ${namespace}/${release}`,
      );
      return r ? asObject(JSON.parse(r.stdout || 'null')) : undefined;
    },
    async upgradeInstall(o) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'platctl-helm-'));
      try {
        const file = path.join(dir, 'values.json');
        await writeFileAtomic(file, JSON.stringify(o.values), 0o600);
        const args = ['upgrade', '--install', o.release, o.chart.chart, '--namespace', o.namespace];
        if (o.chart.repo) args.push('--repo', o.chart.repo);
        if (o.chart.version && !o.chart.local) args.push('--version', o.chart.version);
        // --reset-values: the release ends up with exactly these values, whatever an earlier run left.
        args.push('--values', file, '--reset-values', '--history-max', '10');
        await run(args, `helm upgrade --install ${o.namespace}/${o.release}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    async uninstall(release, namespace) {
      const r = await runOrAbsent(
        ['uninstall', release, '--namespace', namespace],
        `helm uninstall ${namespace}/${release}`,
      );
      return r !== undefined;
    },
    async rollback(release, namespace) {
      await run(['rollback', release, '--namespace', namespace], `helm rollback ${namespace}/${release}`);
    },
  };
}

/** The {@link Helm} a step uses: its exec, the context's current kube target, its debug log. */
export function helmFor(ctx: Pick<StepContext, 'kubeTarget' | 'exec' | 'log'>): Helm {
  return createHelm(ctx.exec, ctx.kubeTarget.current(), { debug: (l) => ctx.log.debug(`helm: ${l}`) });
}

/**
 * Brings a release out of a pending state left by a killed run (platctl holds the run lock, so nobody else is
 * mid-operation): a pending install is uninstalled, a pending upgrade or rollback is rolled back.
 * Returns what it did, or undefined when the release was not pending.
 */
export async function settlePending(
  helm: Helm,
  release: string,
  namespace: string,
): Promise<'uninstalled' | 'rolled-back' | undefined> {
  const st = await helm.status(release, namespace);
  if (!st?.status.startsWith('pending-')) return undefined;
  if (st.status === 'pending-install') {
    await helm.uninstall(release, namespace);
    return 'uninstalled';
  }
  await helm.rollback(release, namespace);
  return 'rolled-back';
}
