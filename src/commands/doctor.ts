/**
 * `platctl doctor`: are the external tools there (and new enough), is the git host token set (with a provider),
 * do AWS credentials work, can the cluster be reached? Prints a table; exits 1 when something required is
 * missing.
 */
import type { Command } from 'commander';
import type { GlobalOptions } from '../cli-options.js';
import { createExec } from '../clients/exec.js';
import { describeError, ExitCode } from '../errors.js';
import { createLogger } from '../log.js';
import { printResult } from './common.js';
import { type Check, checkAws, checkGitHostToken, checkKube, checkNetworkPolicy, checkTools } from './doctor-checks.js';

/** Runs every check and prints the table. */
export default async function doctor(opts: { config?: string; cluster?: string; output?: string }, cmd: Command) {
  const flags = cmd.optsWithGlobals() as GlobalOptions & typeof opts;
  const log = createLogger({ debug: flags.debug });
  const exec = createExec();
  let cluster: import('../config/schema.js').ClusterConfig | undefined;
  if (flags.config) {
    const { loadConfig, selectCluster } = await import('../config/load.js');
    const config = await loadConfig(flags.config);
    cluster = flags.cluster ? selectCluster(config, flags.cluster, flags.config) : config.clusters[0];
  }
  const checks: Check[] = [...(await checkTools(exec))];
  const token = cluster && (await checkGitHostToken(cluster));
  if (token) checks.push(token);
  checks.push(
    await checkAws(cluster).catch((e) => ({
      name: 'aws credentials',
      ok: false,
      required: true,
      detail: describeError(e),
    })),
  );
  checks.push(
    await checkKube(flags, cluster).catch((e) => ({
      name: 'kubernetes',
      ok: false,
      required: false,
      detail: describeError(e),
    })),
  );
  if (cluster && checks.find((c) => c.name === 'aws credentials')?.ok) {
    const c = cluster;
    checks.push(
      await checkNetworkPolicy(c).catch((e) => ({
        name: 'network policy',
        ok: false,
        required: false,
        detail: describeError(e),
      })),
    );
  }
  const failed = checks.filter((c) => c.required && !c.ok);
  printResult(flags, { ok: failed.length === 0, checks }, () => {
    const w = Math.max(...checks.map((c) => c.name.length));
    return checks.map((c) => `${c.ok ? '✔' : c.required ? '✗' : '⚠'} ${c.name.padEnd(w)}  ${c.detail}`);
  });
  if (failed.length > 0) {
    log.failure(
      `${failed.length} required check${failed.length > 1 ? 's' : ''} failed: ${failed.map((c) => c.name).join(', ')}`,
    );
    return ExitCode.stepFailed;
  }
  return ExitCode.ok;
}
