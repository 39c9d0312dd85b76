/**
 * A fake Vault behind the narrow {@link VaultApi} interface, for unit tests of the unseal and init logic:
 * Shamir unseal progress with a nonce, a configurable seal type, and a record of every call.
 * Lab tests use the real OpenBao instead.
 */
import type { InitRequest, InitResponse, RaftPeer, SealStatus, VaultApi } from '../../src/vault/api.js';

/** The fake's knobs and its call log. */
export interface FakeVault extends VaultApi {
  state: SealStatus;
  /** Every share given, in order (the test checks what reached Vault). */
  shares: string[];
  calls: string[];
  peers: RaftPeer[];
  /** Called before each unseal answer: lets a test reset the attempt "elsewhere". */
  onUnseal?: (fake: FakeVault) => void;
  initAnswer?: InitResponse;
  initBodies: InitRequest[];
}

/** A sealed, initialised Shamir Vault with threshold `t` of `n`. */
export function fakeVault(o: { t?: number; n?: number; type?: string; initialized?: boolean } = {}): FakeVault {
  const t = o.t ?? 2;
  const fake: FakeVault = {
    addr: 'http://fake-vault:8200',
    state: {
      type: o.type ?? 'shamir',
      initialized: o.initialized ?? true,
      sealed: true,
      t,
      n: o.n ?? 3,
      progress: 0,
      nonce: '',
    },
    shares: [],
    calls: [],
    peers: [],
    initBodies: [],
    async initStatus() {
      fake.calls.push('GET /v1/sys/init');
      return { initialized: fake.state.initialized };
    },
    async sealStatus() {
      fake.calls.push('GET /v1/sys/seal-status');
      return { ...fake.state };
    },
    async init(body) {
      fake.calls.push('PUT /v1/sys/init');
      fake.initBodies.push(body);
      fake.state.initialized = true;
      return fake.initAnswer ?? { root_token: '' };
    },
    async unseal(body) {
      fake.calls.push('PUT /v1/sys/unseal');
      fake.onUnseal?.(fake);
      if ('reset' in body) {
        fake.state = { ...fake.state, progress: 0, nonce: '' };
        return { ...fake.state };
      }
      fake.shares.push(body.key);
      if (!fake.state.nonce) fake.state.nonce = `nonce-${fake.calls.length}`;
      fake.state.progress++;
      if (fake.state.progress >= fake.state.t) fake.state = { ...fake.state, progress: 0, nonce: '', sealed: false };
      return { ...fake.state };
    },
    async raftPeers(token) {
      fake.calls.push(`GET /v1/sys/storage/raft/configuration token=${token ? 'yes' : 'no'}`);
      return fake.peers;
    },
  };
  return fake;
}
