/**
 * `platctl vault init <cluster>`: the vault-init step on its own, with the key files, threshold and Vault
 * address from flags (else platform.yaml). Every key file is validated before Vault is contacted or the run
 * lock taken; then the step runs through the runner, so its outputs land in state like bootstrap's.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { createVaultInitStep } from '../../steps/vault-init.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { runBootstrap } from '../runner/pipeline.js';
import { withSession } from '../runner/session.js';
import { type InitPlan, initFiles, loadInitKeys, planFromConfig } from '../vault/init.js';
import { printResult, setupCommand } from './common.js';
import { finishRun } from './finish.js';

/** The command's own flags. */
export interface VaultInitOptions {
  config: string;
  pgpKey?: string[];
  keyThreshold?: string;
  rootTokenPgpKey?: string;
  vaultAddr?: string;
  yes?: boolean;
  output?: string;
}

/** Flags beat platform.yaml: `--pgp-key` repeated sets the shares (their count) and the key files. */
export function planFromFlags(vault: ClusterConfig['vault'], opts: VaultInitOptions): InitPlan {
  const fromConfig = planFromConfig(vault);
  let threshold = fromConfig.threshold;
  if (opts.keyThreshold !== undefined) {
    if (!/^\d+$/.test(opts.keyThreshold)) {
      throw new PlatctlError('USAGE', `--key-threshold ${opts.keyThreshold}: must be a whole number`);
    }
    threshold = Number(opts.keyThreshold);
  }
  const keys = opts.pgpKey?.map((f) => path.resolve(f));
  return {
    shares: keys?.length ? keys.length : fromConfig.shares,
    threshold,
    pgpKeyFiles: keys?.length ? keys : fromConfig.pgpKeyFiles,
    rootTokenPgpKeyFile: opts.rootTokenPgpKey ? path.resolve(opts.rootTokenPgpKey) : fromConfig.rootTokenPgpKeyFile,
  };
}

/** Runs `vault init` and returns the exit code. */
export default async function vaultInit(clusterName: string, opts: VaultInitOptions, cmd: Command): Promise<number> {
  const setup = await setupCommand(clusterName, cmd);
  const plan = planFromFlags(setup.cluster.vault, opts);
  // Bad input stops here: before the lock, before any request to Vault.
  const keys = await loadInitKeys(plan);
  for (const [i, k] of keys.shareKeys.entries()) {
    setup.log.info(`share ${i + 1}/${plan.shares} → ${k.fingerprint} ${k.userIds.join(', ')}`.trimEnd());
  }
  setup.log.info(`root token → ${keys.rootKey.fingerprint} ${keys.rootKey.userIds.join(', ')}`.trimEnd());
  const step = createVaultInitStep({ vaultAddr: opts.vaultAddr, plan, confirm: true });
  return withSession(setup.session('vault init', true), async (session) => {
    const outcome = await runBootstrap({ steps: [step], session, ...setup.run });
    const { report } = outcome;
    const r = report.steps[0];
    const json = {
      cluster: clusterName,
      ok: report.ok,
      result: r?.result,
      detail: r?.detail,
      file: initFiles(clusterName).output,
      outputs: r?.outputs ?? {},
      ...(report.error ? { error: report.error } : {}),
    };
    printResult(setup.flags, json, () =>
      r && report.ok ? [`vault init ${clusterName}: ${r.result === 'applied' ? 'initialised' : r.detail}`] : [],
    );
    return finishRun(outcome, setup);
  });
}
