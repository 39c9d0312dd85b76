/**
 * `platctl init`'s questions, answered by a script (the terminal part is @inquirer's): the file it writes
 * loads with the same schema bootstrap uses, carries Vault's PGP key holders, and points at the shipped
 * JSON Schema. Each answer's validation refuses what the schema would. (No terminal: see test/cli.test.ts.)
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createPrompter, type PromptRunner } from '../../src/clients/prompt.js';
import { askPlatformConfig } from '../../src/commands/init.js';
import { loadConfig, validateConfig } from '../../src/config/load.js';

/** Answers each question by the first key its text contains; records what each validate said. */
function scripted(answers: Record<string, string>, refusals: string[] = []): PromptRunner {
  return async <T>(_kind: string, o: Record<string, unknown>) => {
    const message = String(o.message);
    const key = Object.keys(answers).find((k) => message.includes(k));
    const answer = key ? answers[key]! : String(o.default ?? '');
    const verdict = (o.validate as ((v: string) => true | string) | undefined)?.(answer) ?? true;
    if (verdict !== true) {
      refusals.push(`${message}: ${verdict}`);
      throw new Error(`refused: ${verdict}`);
    }
    return answer as T;
  };
}

const good = {
  'Cluster name': 'prod-eu',
  'AWS account id': '111122223333',
  'AWS region': 'eu-west-1',
  'share holders': 'keys/alice.asc, keys/bob.asc, keys/carol.asc',
  'root token': 'keys/team.asc',
};

/** A prompter answering from `runner`, recording every question it was asked in `asked`. */
function recording(runner: Parameters<typeof createPrompter>[0]['runner'], asked: string[]) {
  return createPrompter({
    yes: false,
    interactive: true,
    runner: async (kind, o) => {
      asked.push(String(o.message));
      return runner!(kind, o);
    },
  });
}

describe('platctl init', () => {
  it('writes a platform.yaml that loads, with the Vault key holders and the shipped schema', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'platctl-init-'));
    const file = path.join(dir, 'platform.yaml');
    const ask = createPrompter({ yes: false, interactive: true, runner: scripted(good) });
    const { name, text } = await askPlatformConfig(ask, file);
    writeFileSync(file, text);
    expect(name).toBe('prod-eu');
    const config = await loadConfig(file);
    const c = config.clusters[0]!;
    expect(c).toMatchObject({ name: 'prod-eu', aws: { accountId: '111122223333', region: 'eu-west-1' } });
    expect(c.vault).toMatchObject({ keyShares: 3, keyThreshold: 2 });
    expect(c.vault.pgpKeys.map((k) => path.basename(k))).toEqual(['alice.asc', 'bob.asc', 'carol.asc']);
    const schema = /\$schema=(\S+)/.exec(text)?.[1];
    expect(schema && existsSync(path.resolve(dir, schema))).toBe(true);
  });

  it('asks who registers the deploy key: ssh by default for another host, and no token variable then', async () => {
    const ask = createPrompter({
      yes: false,
      interactive: true,
      runner: scripted({ ...good, 'Fleet repo': 'ssh://git@git.example.com:2222/ops/fleet.git' }),
    });
    const { text, tokenVar } = await askPlatformConfig(ask, 'p.yaml');
    const c = validateConfig(parse(text), 'p.yaml').clusters[0]!;
    expect(c.fleet).toMatchObject({ url: 'ssh://git@git.example.com:2222/ops/fleet.git', provider: 'ssh' });
    expect(c.fleet.apiUrl).toBeUndefined();
    expect(tokenVar).toBeUndefined();
  });

  it('gitea: asks the server URL and the webhook URL, names GITEA_TOKEN, and writes no token', async () => {
    const asked: string[] = [];
    const runner = scripted({
      ...good,
      'Fleet repo': 'ssh://git@gitea.example.com:2222/ops/fleet.git',
      'deploy key': 'gitea',
      'Public URL for the push webhook': 'https://flux-webhook.example.com',
    });
    const ask = recording(runner, asked);
    const { text, tokenVar } = await askPlatformConfig(ask, 'p.yaml');
    const c = validateConfig(parse(text), 'p.yaml').clusters[0]!;
    expect(c.fleet).toMatchObject({ provider: 'gitea', apiUrl: 'https://gitea.example.com' });
    expect(c.flux.webhook).toEqual({ url: 'https://flux-webhook.example.com' });
    expect(tokenVar).toBe('GITEA_TOKEN');
    expect(asked.find((m) => m.includes('deploy key'))).toContain('gitea (platctl, with GITEA_TOKEN)');
    expect(text).not.toMatch(/GITEA_TOKEN|\btoken\b/i);
  });

  it('github.com: github by default, no API question; a URL without owner/name is refused for a provider', async () => {
    const asked: string[] = [];
    const runner = scripted({ ...good, 'Fleet repo': 'git@github.com:acme/fleet.git' });
    const ask = recording(runner, asked);
    const { text, tokenVar } = await askPlatformConfig(ask, 'p.yaml');
    const c = validateConfig(parse(text), 'p.yaml').clusters[0]!;
    expect(c.fleet.provider).toBe('github');
    expect(c.fleet.apiUrl).toBeUndefined();
    expect(c.flux.webhook).toBeUndefined();
    expect(tokenVar).toBe('GITHUB_TOKEN');
    expect(asked.some((m) => m.includes('API URL') || m.includes('server URL'))).toBe(false);
    const refusals: string[] = [];
    const flat = scripted(
      { ...good, 'Fleet repo': 'ssh://git@github.com/fleet.git', 'deploy key': 'github' },
      refusals,
    );
    await expect(
      askPlatformConfig(createPrompter({ yes: false, interactive: true, runner: flat }), 'p.yaml'),
    ).rejects.toThrow('must name the repository as <owner>/<name> for github');
  });

  it('refuses a key list that does not match the share count, and a threshold above it', async () => {
    const refusals: string[] = [];
    const wrongCount = scripted({ ...good, 'share holders': 'keys/alice.asc' }, refusals);
    await expect(
      askPlatformConfig(createPrompter({ yes: false, interactive: true, runner: wrongCount }), 'p.yaml'),
    ).rejects.toThrow('exactly 3 files, one per share');
    const tooHigh = scripted({ ...good, threshold: '4' }, refusals);
    await expect(
      askPlatformConfig(createPrompter({ yes: false, interactive: true, runner: tooHigh }), 'p.yaml'),
    ).rejects.toThrow('1 to 3');
    expect(refusals).toHaveLength(2);
  });
});
