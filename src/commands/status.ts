/** `platctl status <cluster>`: each step's status, when, by whom, outputs (never secrets) and last error. */
import type { Command } from 'commander';
import { ExitCode, PlatctlError } from '../errors.js';
import { runChecks } from '../runner/pipeline.js';
import { withSession } from '../runner/session.js';
import { loadSteps } from '../steps-registry.js';
import { tenantRecords } from '../tenants/records.js';
import { type ClusterFlags, printResult, setupCommand } from './common.js';

/** Reads state (no lock, no writes) and prints it; --verify also runs every check. */
export default async function status(clusterName: string, _opts: unknown, cmd: Command) {
  const { vars, output } = cmd.optsWithGlobals() as ClusterFlags & { vars?: boolean };
  if (output === 'env' && !vars) throw new PlatctlError('USAGE', '--output env needs --vars');
  const setup = await setupCommand(clusterName, cmd);
  const steps = await loadSteps();
  return withSession(setup.session('status', false), async (session) => {
    const { state } = session;
    if (vars) {
      const { printVars } = await import('./status-vars.js');
      printVars(setup.cluster, state, setup.flags, setup.log);
      return ExitCode.ok;
    }
    // --verify: every check, the way bootstrap runs it, as a dry run that goes on past a failing check.
    const checks = new Map<string, { status: string; detail: string }>();
    if (setup.flags.verify) {
      const { report } = await runChecks({ steps, session, ...setup.run });
      for (const r of report.steps) {
        if (r.result === 'failed') checks.set(r.id, { status: 'failed', detail: r.detail });
        else if (r.check) checks.set(r.id, { status: r.check, detail: r.detail });
      }
    }
    const rows: {
      id: string;
      title: string;
      status: string;
      startedAt?: string;
      finishedAt?: string;
      by?: string;
      outputs: Record<string, unknown>;
      error?: string;
      check?: { status: string; detail: string };
    }[] = [];
    for (const step of steps) {
      const rec = state.steps[step.id];
      const check = checks.get(step.id);
      rows.push({
        id: step.id,
        title: step.title,
        status: rec?.status ?? 'pending',
        startedAt: rec?.startedAt,
        finishedAt: rec?.finishedAt,
        by: rec?.by,
        outputs: rec?.outputs ?? {},
        error: rec?.error,
        ...(check ? { check } : {}),
      });
    }
    // NetworkPolicies (tenant isolation) are enforced only with the VPC CNI's policy agent on.
    const warnings: string[] = [];
    if (setup.flags.verify) {
      const { networkPolicyState, NETWORK_POLICY_FIX } = await import('../aws/vpc-cni.js');
      const { eksClusterName } = await import('../../steps/cluster.js');
      // Read-only, like the checks: nothing written, nothing asked.
      const ctx = setup.context({ outputs: (id) => state.steps[id]?.outputs ?? {}, dryRun: true, yes: false });
      const np = await networkPolicyState(ctx, eksClusterName(ctx)).catch((err: Error) => ({
        state: 'unknown' as const,
        detail: `cannot read the vpc-cni add-on: ${err.message}`,
      }));
      if (np.state === 'off') warnings.push(`${np.detail}; ${NETWORK_POLICY_FIX}`);
      else if (np.state === 'unknown') warnings.push(np.detail);
      for (const w of warnings) setup.log.warning(w);
    }
    const tenants = tenantRecords(state);
    const json = {
      tenants,
      cluster: clusterName,
      location: session.store.location,
      store: session.store.name,
      steps: rows,
      phases: state.phases,
      history: state.history.slice(-10),
      ...(setup.flags.verify ? { warnings } : {}),
    };
    printResult(setup.flags, json, () => {
      const lines = [`cluster ${clusterName} — state in ${session.store.name}`];
      for (const r of rows) {
        const when = r.finishedAt ?? r.startedAt;
        lines.push(`  ${r.id.padEnd(16)} ${r.status.padEnd(10)} ${when ? `${when} by ${r.by}` : ''}`.trimEnd());
        for (const [k, v] of Object.entries(r.outputs))
          lines.push(`      ${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
        if (r.error) lines.push(`      last error: ${r.error}`);
        if (r.check) lines.push(`      check: ${r.check.status} — ${r.check.detail}`);
      }
      for (const [id, p] of Object.entries(state.phases)) {
        const when = p.finishedAt ?? p.startedAt;
        lines.push(`  phase ${id} ${p.status}${when ? ` ${when} by ${p.by}` : ''}`);
        if (p.error) lines.push(`      last error: ${p.error}`);
      }
      for (const [name, t] of Object.entries(tenants)) {
        lines.push(
          `  tenant ${name}: namespaces ${t.namespaces.join(', ')}${t.hosts.length ? `; hosts ${t.hosts.join(', ')}` : ''}`,
        );
      }
      return lines;
    });
    return ExitCode.ok;
  });
}
