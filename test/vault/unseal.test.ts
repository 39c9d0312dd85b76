/**
 * Unseal logic against a fake Vault (the narrow VaultApi) with shares fed through a Prompter whose runner is a
 * fake (the narrow prompt interface): progress n/t, nonce handling, shares never logged, and the Raft report.
 * The real OpenBao unseal is proved in test/steps/vault-init.lab.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createPrompter, type PromptRunner } from '../../src/clients/prompt.js';
import { clearSecrets, maskSecrets } from '../../src/secrets.js';
import { unsealVault, verifyRaftPeers } from '../../src/vault/unseal.js';
import { fakeVault } from '../helpers/fake-vault.js';
import { memoryLogger } from '../helpers/memory-logger.js';

/** A prompter answering hidden prompts from `answers`, recording each question and the prompt kind. */
function scriptedPrompter(answers: string[]) {
  const asked: { kind: string; message: string; mask: unknown }[] = [];
  const runner: PromptRunner = async <T>(kind: string, options: Record<string, unknown>) => {
    asked.push({ kind, message: String(options.message), mask: options.mask });
    return (answers.shift() ?? '') as T;
  };
  return { prompt: createPrompter({ yes: false, interactive: true, runner }), asked };
}

const shareA = 'aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44ee';
const shareB = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0aa';

beforeEach(() => clearSecrets());

describe('unsealVault', () => {
  it('asks with hidden input until the threshold, shows n/t, and never logs a share', async () => {
    const vault = fakeVault({ t: 2, n: 3 });
    const log = memoryLogger();
    const { prompt, asked } = scriptedPrompter([shareA, shareB]);
    const r = await unsealVault({ api: vault, ask: (m) => prompt.secret(m), log });
    expect(r).toEqual({ sealed: false, given: 2, threshold: 2, alreadyUnsealed: false });
    expect(vault.shares).toEqual([shareA, shareB]);
    expect(asked.map((a) => [a.kind, a.message])).toEqual([
      ['password', 'Unseal share 1/2 (hidden)'],
      ['password', 'Unseal share 2/2 (hidden)'],
    ]);
    expect(log.lines).toContain('  unseal progress 1/2');
    const all = log.lines.join('\n');
    expect(all).not.toContain(shareA);
    expect(all).not.toContain(shareB);
    // Each share was registered with the masker, so any later line carrying it is masked.
    expect(maskSecrets(`oops ${shareA}`)).toBe('oops ****');
  });

  it('trims answers, re-asks on empty input, and gives up after three empty answers', async () => {
    const vault = fakeVault({ t: 2 });
    const { prompt } = scriptedPrompter(['', `  ${shareA}\n`, shareB]);
    await unsealVault({ api: vault, ask: (m) => prompt.secret(m), log: memoryLogger() });
    expect(vault.shares).toEqual([shareA, shareB]);
    const stuck = fakeVault({ t: 2 });
    const { prompt: p2 } = scriptedPrompter([]);
    await expect(unsealVault({ api: stuck, ask: (m) => p2.secret(m), log: memoryLogger() })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(stuck.shares).toEqual([]);
  });

  it('joins an attempt already in progress and says so; --reset discards it instead', async () => {
    const joined = fakeVault({ t: 3 });
    joined.state = { ...joined.state, progress: 1, nonce: 'theirs' };
    const log = memoryLogger();
    const { prompt, asked } = scriptedPrompter([shareA, shareB]);
    await unsealVault({ api: joined, ask: (m) => prompt.secret(m), log });
    expect(log.lines.join('\n')).toContain('already in progress (1/3, nonce theirs): joining it');
    expect(asked.map((a) => a.message)).toEqual(['Unseal share 2/3 (hidden)', 'Unseal share 3/3 (hidden)']);

    const reset = fakeVault({ t: 2 });
    reset.state = { ...reset.state, progress: 1, nonce: 'theirs' };
    const { prompt: p2 } = scriptedPrompter([shareA, shareB]);
    await unsealVault({ api: reset, ask: (m) => p2.secret(m), log: memoryLogger(), reset: true });
    expect(reset.calls.filter((c) => c === 'PUT /v1/sys/unseal')).toHaveLength(3);
    expect(reset.shares).toEqual([shareA, shareB]);
  });

  it('stops when the nonce changes under it (someone reset the attempt)', async () => {
    const vault = fakeVault({ t: 3 });
    let n = 0;
    vault.onUnseal = (f) => {
      // Before our second share lands, another operator resets and starts their own attempt.
      if (++n === 2) f.state = { ...f.state, progress: 0, nonce: 'someone-else' };
    };
    const { prompt } = scriptedPrompter([shareA, shareB, shareA]);
    await expect(unsealVault({ api: vault, ask: (m) => prompt.secret(m), log: memoryLogger() })).rejects.toThrow(
      /reset by someone else/,
    );
  });

  it('does not prompt when already unsealed, refuses an uninitialised Vault, explains a sealed auto-unseal Vault', async () => {
    const open = fakeVault();
    open.state.sealed = false;
    const { prompt, asked } = scriptedPrompter([shareA]);
    expect((await unsealVault({ api: open, ask: (m) => prompt.secret(m), log: memoryLogger() })).alreadyUnsealed).toBe(
      true,
    );
    expect(asked).toEqual([]);
    const blank = fakeVault({ initialized: false });
    await expect(unsealVault({ api: blank, ask: (m) => prompt.secret(m), log: memoryLogger() })).rejects.toThrow(
      /not initialised/,
    );
    const kms = fakeVault({ type: 'awskms' });
    await expect(unsealVault({ api: kms, ask: (m) => prompt.secret(m), log: memoryLogger() })).rejects.toThrow(
      /uses the awskms seal and is still sealed/,
    );
    expect(asked).toEqual([]);
  });

  it('without a terminal the Prompter refuses to ask for a share (never from flags)', async () => {
    const vault = fakeVault();
    const prompt = createPrompter({ yes: true, interactive: false });
    await expect(unsealVault({ api: vault, ask: (m) => prompt.secret(m), log: memoryLogger() })).rejects.toMatchObject({
      code: 'NO_TTY',
    });
    expect(vault.shares).toEqual([]);
  });
});

describe('verifyRaftPeers', () => {
  const peer = (node_id: string, leader = false) => ({ node_id, address: `${node_id}:8201`, leader, voter: true });

  it('names the replicas missing from the Raft configuration', async () => {
    const vault = fakeVault();
    vault.peers = [peer('vault-0', true), peer('vault-2')];
    const log = memoryLogger();
    const r = await verifyRaftPeers({ api: vault, token: 'hvs.test-token-value', replicas: 3, log });
    expect(r).toMatchObject({ checked: true, expected: 3, missing: ['vault-1'], missingCount: 1 });
    expect(log.lines.join('\n')).toContain('Raft: 2/3 peers (vault-0 (leader), vault-2); 1 missing: vault-1');
    expect(vault.calls).toContain('GET /v1/sys/storage/raft/configuration token=yes');
  });

  it('counts when node ids follow another scheme, and reports all present', async () => {
    const vault = fakeVault();
    vault.peers = [peer('lab-0', true)];
    expect(await verifyRaftPeers({ api: vault, token: 'tok-123456', replicas: 3, log: memoryLogger() })).toMatchObject({
      missing: [],
      missingCount: 2,
    });
    vault.peers = [peer('vault-0', true), peer('vault-1'), peer('vault-2')];
    const log = memoryLogger();
    expect(await verifyRaftPeers({ api: vault, token: 'tok-123456', replicas: 3, log })).toMatchObject({
      missingCount: 0,
    });
    expect(log.lines.join('\n')).toContain('✔ Raft: 3/3 peers');
  });

  it('without a token it skips, says why, and makes no request', async () => {
    const vault = fakeVault();
    const log = memoryLogger();
    const r = await verifyRaftPeers({ api: vault, replicas: 3, log });
    expect(r.checked).toBe(false);
    expect(r.skipped).toContain('VAULT_TOKEN');
    expect(log.lines.join('\n')).toContain('Raft peers not verified');
    expect(vault.calls).toEqual([]);
  });
});
