/**
 * Fleet repo writes over the lab's real sshd, as the operator (read-write key through GIT_SSH_COMMAND):
 * commit only on change, user-edited files kept, new branches created, and a clear error when the
 * credentials cannot push.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec } from '../../src/clients/exec.js';
import { type FleetFile, isPristine, syncFleet, withMarker } from '../../src/flux/fleet.js';
import { generateDeployKey } from '../../src/flux/keys.js';
import {
  fleetFile,
  fleetGit,
  fleetHead,
  pushAsOperator,
  uniqueName,
  useOperatorCredentials,
} from '../helpers/flux-context.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { lab } from '../lab/env.js';
import { authorizeKey, revokeKey } from '../lab/lab.js';

const env = lab();
const exec = createExec();
const dir = `clusters/${uniqueName('fleet')}`;
const branch = uniqueName('platctl-test');
const saved = process.env.GIT_SSH_COMMAND;
const roKey = generateDeployKey('ed25519', 'fleet-ro');
let tmp: string;

const files = (note = 'v1'): FleetFile[] => [
  { path: `${dir}/owned.yaml`, content: `kind: Owned\nnote: ${note}\n`, editable: false },
  { path: `${dir}/kustomization.yaml`, content: `resources: [owned.yaml]\n# ${note}\n`, editable: true },
];
const opts = (extra: Partial<Parameters<typeof syncFleet>[1]> = {}) => ({
  exec,
  log: memoryLogger(),
  url: env.fleetUrl,
  branch: 'main',
  message: 'platctl: fleet test',
  ...extra,
});

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'platctl-fleet-'));
  useOperatorCredentials(env);
});
afterAll(async () => {
  await revokeKey(roKey.publicKey);
  await execa('git', ['push', '-q', env.fleetUrl, `:refs/heads/${branch}`], {
    env: { GIT_SSH_COMMAND: env.gitSshCommand },
    reject: false,
  });
  if (saved === undefined) delete process.env.GIT_SSH_COMMAND;
  else process.env.GIT_SSH_COMMAND = saved;
  await rm(tmp, { recursive: true, force: true });
});

describe('markers', () => {
  it('a file is pristine only while it holds exactly what platctl wrote', () => {
    const text = withMarker('a: 1\n');
    expect(isPristine(text)).toBe(true);
    expect(isPristine(`${text}b: 2\n`)).toBe(false);
    expect(isPristine('a: 1\n')).toBe(false);
    expect(isPristine(text.replace(/sha256=[0-9a-f]{4}/, 'sha256=0000'))).toBe(false);
  });
});

describe('syncFleet (lab fleet repo)', () => {
  it('commits and pushes new files, then makes no commit when nothing changed', async () => {
    const first = await syncFleet(files(), opts());
    expect(first).toMatchObject({
      committed: true,
      changed: [`${dir}/owned.yaml`, `${dir}/kustomization.yaml`],
      kept: [],
    });
    const head = await fleetHead(env);
    expect(first.sha).toBe(head);
    expect(first.revision).toBe(`main@sha1:${head}`);
    expect(await fleetFile(env, head, `${dir}/kustomization.yaml`)).toBe(
      withMarker('resources: [owned.yaml]\n# v1\n').trimEnd(),
    );

    const again = await syncFleet(files(), opts());
    expect(again).toMatchObject({ committed: false, changed: [], sha: head });
    expect(await fleetHead(env)).toBe(head);
  });

  it('a dry run reports the change and pushes nothing', async () => {
    const head = await fleetHead(env);
    const dry = await syncFleet(files('v2'), opts({ dryRun: true }));
    expect(dry).toMatchObject({ committed: false, changed: [`${dir}/owned.yaml`, `${dir}/kustomization.yaml`] });
    expect(await fleetHead(env)).toBe(head);
  });

  it('never overwrites a kustomization.yaml someone edited, but keeps its own files current', async () => {
    const mine = 'resources: [owned.yaml, extra.yaml]\n';
    await pushAsOperator(env, { [`${dir}/kustomization.yaml`]: mine }, 'edit by hand');
    const r = await syncFleet(files('v2'), opts());
    expect(r).toMatchObject({ committed: true, changed: [`${dir}/owned.yaml`], kept: [`${dir}/kustomization.yaml`] });
    const head = await fleetHead(env);
    expect(await fleetFile(env, head, `${dir}/kustomization.yaml`)).toBe(mine.trimEnd());
    expect(await fleetFile(env, head, `${dir}/owned.yaml`)).toContain('note: v2');
    expect(await fleetGit(env, ['log', '-1', '--format=%s', head])).toBe('platctl: fleet test');
  });

  it('creates the branch when the remote does not have it yet', async () => {
    const r = await syncFleet(files(), opts({ branch }));
    expect(r.committed).toBe(true);
    expect(await fleetGit(env, ['rev-parse', `refs/heads/${branch}`])).toBe(r.sha);
    expect(await fleetGit(env, ['rev-list', '--count', `refs/heads/${branch}`])).toBe('1');
  });

  it('fails clearly when the credentials can read but not push (a read-only key)', async () => {
    await authorizeKey(roKey.publicKey, { readOnly: true });
    const key = path.join(tmp, 'ro');
    await writeFile(key, roKey.privateKey, { mode: 0o600 });
    process.env.GIT_SSH_COMMAND = `ssh -i ${key} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${env.knownHosts}`;
    try {
      await expect(syncFleet(files('v3'), opts())).rejects.toMatchObject({
        code: 'TOOL_FAILED',
        message: expect.stringMatching(
          new RegExp(`cannot push to ${env.fleetUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*read-only key`),
        ),
        hint: expect.stringContaining('write access'),
      });
    } finally {
      useOperatorCredentials(env);
    }
  });
});
