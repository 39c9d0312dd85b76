/**
 * Unsealing a Shamir-sealed Vault: hidden prompts for decrypted shares until the threshold is reached, with
 * progress n/t. The nonce identifies the unseal attempt: an attempt someone else started is announced and
 * joined (or reset with `reset`), and an attempt that changes under us (reset elsewhere) stops the command.
 * Shares are registered with the secret masker and never logged. Then the Raft peers are checked.
 */
import { PlatctlError } from '../errors.js';
import type { Logger } from '../log.js';
import { registerSecret } from '../secrets.js';
import type { RaftPeer, SealStatus, VaultApi } from './api.js';

/** Asks for one hidden value (the Prompter's `secret`). */
export type AskSecret = (message: string) => Promise<string>;

/** The outcome of {@link unsealVault}. */
export interface UnsealResult {
  /** False once Vault is unsealed. */
  sealed: boolean;
  /** Shares this run gave. */
  given: number;
  threshold: number;
  alreadyUnsealed: boolean;
}

/** Unseals Vault through `api`, asking `ask` for shares. */
export async function unsealVault(o: {
  api: VaultApi;
  ask: AskSecret;
  log: Logger;
  /** Discard an attempt in progress instead of joining it. */
  reset?: boolean;
  /** Empty answers tolerated before giving up (stdin closed, or nothing typed). */
  maxEmpty?: number;
}): Promise<UnsealResult> {
  let status: SealStatus = await o.api.sealStatus();
  if (!status.initialized) {
    throw new PlatctlError('VAULT_NOT_INITIALISED', `Vault at ${o.api.addr} is not initialised`, {
      hint: 'run `platctl vault init <cluster>` (or bootstrap) first',
    });
  }
  if (!status.sealed) {
    o.log.success(`Vault at ${o.api.addr} is already unsealed`);
    return { sealed: false, given: 0, threshold: status.t, alreadyUnsealed: true };
  }
  if (status.type !== 'shamir') {
    throw new PlatctlError('VAULT_SEALED', `Vault at ${o.api.addr} uses the ${status.type} seal and is still sealed`, {
      hint: `an auto-unseal Vault unseals itself: check its access to the ${status.type} key (IRSA role, KMS key policy) and its logs`,
    });
  }
  if (status.progress > 0) {
    if (o.reset) {
      status = await o.api.unseal({ reset: true });
      o.log.warning('discarded the unseal attempt in progress (--reset)');
    } else {
      o.log.warning(
        `an unseal attempt is already in progress (${status.progress}/${status.t}, nonce ${status.nonce}): joining it`,
      );
    }
  }
  let nonce = status.progress > 0 ? status.nonce : '';
  let given = 0;
  let empty = 0;
  const maxEmpty = o.maxEmpty ?? 3;
  while (status.sealed) {
    const share = (await o.ask(`Unseal share ${status.progress + 1}/${status.t} (hidden)`)).trim();
    if (!share) {
      if (++empty >= maxEmpty) throw new PlatctlError('ABORTED', 'vault unseal: no share given; Vault is still sealed');
      continue;
    }
    registerSecret(share);
    const before = status.progress;
    status = await o.api.unseal({ key: share });
    given++;
    if (!status.sealed) break;
    if (nonce && status.nonce !== nonce) {
      throw new PlatctlError(
        'VAULT_UNSEAL_RESET',
        'the unseal attempt was reset by someone else while shares were entered',
        {
          hint: 'agree who unseals, then run `platctl vault unseal` again (the shares entered so far were discarded)',
        },
      );
    }
    nonce = status.nonce;
    if (status.progress <= before)
      o.log.warning('that share did not advance the unseal: already given in this attempt?');
    o.log.info(`unseal progress ${status.progress}/${status.t}`);
  }
  o.log.success(`Vault at ${o.api.addr} is unsealed (${status.t}/${status.t} shares)`);
  return { sealed: false, given, threshold: status.t, alreadyUnsealed: false };
}

/** The Raft peers compared with the replicas the config asks for. */
export interface RaftReport {
  checked: boolean;
  /** Why the check was skipped (no token). */
  skipped?: string;
  peers: RaftPeer[];
  expected: number;
  /** Expected node ids (`<release>-<i>`) not among the peers; empty when the node ids follow another scheme. */
  missing: string[];
  missingCount: number;
}

/** Reads `sys/storage/raft/configuration` with `token` and reports missing peers. No token: skipped, said why. */
export async function verifyRaftPeers(o: {
  api: VaultApi;
  token?: string;
  replicas: number;
  release?: string;
  log: Logger;
}): Promise<RaftReport> {
  const expected = o.replicas;
  if (!o.token) {
    const skipped = 'no VAULT_TOKEN: set it to a token allowed to read sys/storage/raft/configuration to verify peers';
    o.log.warning(`Raft peers not verified (${skipped})`);
    return { checked: false, skipped, peers: [], expected, missing: [], missingCount: 0 };
  }
  registerSecret(o.token);
  const peers = await o.api.raftPeers(o.token);
  const release = o.release ?? 'vault';
  const ids = new Set(peers.map((p) => p.node_id));
  const named = peers.length > 0 && peers.every((p) => new RegExp(`^${release}-\\d+$`).test(p.node_id));
  const missing = named
    ? Array.from({ length: expected }, (_, i) => `${release}-${i}`).filter((id) => !ids.has(id))
    : [];
  const missingCount = Math.max(named ? missing.length : expected - peers.length, 0);
  const list = peers.map((p) => `${p.node_id}${p.leader ? ' (leader)' : ''}${p.voter ? '' : ' (non-voter)'}`);
  if (missingCount === 0) o.log.success(`Raft: ${peers.length}/${expected} peers: ${list.join(', ')}`);
  else {
    const which = missing.length > 0 ? `: ${missing.join(', ')}` : '';
    o.log.warning(`Raft: ${peers.length}/${expected} peers (${list.join(', ')}); ${missingCount} missing${which}`);
    o.log.info('a Shamir-sealed replica joins once unsealed: platctl vault unseal <cluster> --pod <name>');
  }
  return { checked: true, peers, expected, missing, missingCount };
}
