/**
 * `platctl vault unseal <cluster>`: prompts (hidden) for decrypted shares until Vault's threshold is reached,
 * then checks the Raft peers against `vault.replicas` (with VAULT_TOKEN, else says it skipped). Shares are never
 * taken from flags or the environment, never logged, never printed.
 */
import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { withSession } from '../runner/session.js';
import { vaultApi } from '../vault/api.js';
import { reachClusterVault } from '../vault/reach.js';
import { unsealVault, verifyRaftPeers } from '../vault/unseal.js';
import { VAULT_RELEASE } from '../vault/values.js';
import { printResult, setupCommand } from './common.js';

/** The command's own flags. */
export interface VaultUnsealOptions {
  config: string;
  vaultAddr?: string;
  /** The pod to port-forward to (each Shamir-sealed replica needs its own unseal). */
  pod?: string;
  /** Discard an unseal attempt already in progress. */
  reset?: boolean;
  output?: string;
}

/** Unseals the cluster's Vault and returns the exit code. */
export default async function vaultUnseal(
  clusterName: string,
  opts: VaultUnsealOptions,
  cmd: Command,
): Promise<number> {
  const setup = await setupCommand(clusterName, cmd);
  // State is only read (no lock): the access step's record says where the cluster is.
  return withSession(setup.session('vault unseal', false), async (session) => {
    const ctx = setup.context({ outputs: (id) => session.state.steps[id]?.outputs ?? {}, yes: false });
    const endpoint = await reachClusterVault({
      cluster: ctx.cluster,
      vaultAddr: opts.vaultAddr,
      pod: opts.pod,
      kube: ctx.kube,
    });
    try {
      const api = vaultApi(endpoint.addr, { ca: endpoint.ca, servername: endpoint.servername });
      setup.log.action(`unsealing Vault at ${api.addr} (${endpoint.description})`);
      const result = await unsealVault({ api, ask: (m) => ctx.prompt.secret(m), log: setup.log, reset: opts.reset });
      const raft = await verifyRaftPeers({
        api,
        token: process.env.VAULT_TOKEN,
        replicas: setup.cluster.vault.replicas,
        release: VAULT_RELEASE,
        log: setup.log,
      });
      printResult(setup.flags, { cluster: clusterName, vaultAddr: api.addr, ...result, raft }, () => [
        `vault unseal ${clusterName}: unsealed${raft.checked ? `; raft ${raft.peers.length}/${raft.expected} peers` : ''}`,
      ]);
      return ExitCode.ok;
    } finally {
      await endpoint.close();
    }
  });
}
