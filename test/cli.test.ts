/**
 * The built CLI as users run it (`node bin/platctl …`, after `npm run build`): help, version, usage errors
 * (exit 2), config errors without stack traces, completion scripts, NO_COLOR on a real terminal (via
 * script(1)), and `--help` not loading the Kubernetes client or the AWS SDK (traced with a module hook).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { packageRoot } from '../src/paths.js';
import { ensureBuiltCli, platctlBin } from './helpers/built-cli.js';
import { rawPlatform, withField } from './helpers/config.js';

let tmp: string;
let badConfig: string;
const bin = platctlBin;

beforeAll(() => {
  ensureBuiltCli();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'platctl-cli-'));
  badConfig = path.join(tmp, 'bad.yaml');
  writeFileSync(badConfig, stringify(withField(rawPlatform(), ['clusters', 0, 'aws', 'region'], 'moon-1')));
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Run = { status: number | null; stdout: string; stderr: string };

/**
 * Runs a command to its end, like spawnSync but without blocking the worker: the tests in each describe run
 * concurrently, so the CLI start-ups overlap on the machine's cores instead of queueing one after another.
 */
function run(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; input?: string }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: tmp, env: opts.env, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(opts.input);
  });
}

/** Runs the CLI without a terminal, with its own PLATCTL_HOME. */
function platctl(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Run> {
  return run(process.execPath, [...nodeArgs, bin, ...args], {
    env: { ...process.env, PLATCTL_HOME: path.join(tmp, 'home'), NO_COLOR: '', ...env },
  });
}

describe.concurrent('platctl CLI', () => {
  it('init without a terminal exits 2 naming what to do instead, and writes nothing', async () => {
    const r = await platctl(['init', '--config', 'new.yaml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('platctl init is interactive and needs a terminal');
    expect(r.stderr).toContain('copy examples/aws/platform.yaml');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(tmp, 'new.yaml'))).toBe(false);
  });

  it('--help exits 0 and lists every command', async () => {
    const r = await platctl(['--help']);
    expect(r.status).toBe(0);
    for (const cmd of [
      'init',
      'bootstrap',
      'status',
      'teardown',
      'vault',
      'add-tenant',
      'remove-tenant',
      'eks',
      'istio',
      'flux',
      'doctor',
      'completion',
      'config',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    }
  });

  it("--version prints package.json's version", async () => {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
    const r = await platctl(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it.each([
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['bootstrap'], /missing required argument 'cluster'/],
    [['bootstrap', 'demo', '--output', 'yaml'], /--output <format>' argument 'yaml' is invalid/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('%j is a usage error: exit 2', async (args, message) => {
    const r = await platctl(args);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
  });

  it('a bad config exits 2 naming the field, with no stack trace', async () => {
    const r = await platctl(['bootstrap', 'demo', '--config', badConfig]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('clusters[0].aws.region: must be an AWS region');
    expect(r.stderr).toMatch(/^✗ /m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe('');
  });

  it('--debug adds the stack trace', async () => {
    const r = await platctl(['bootstrap', 'demo', '--config', badConfig, '--debug']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('clusters[0].aws.region: must be an AWS region');
    expect(r.stderr).toMatch(/^\s+at .*load\.(js|ts)/m);
  });

  it('config schema prints the JSON Schema on stdout', async () => {
    const r = await platctl(['config', 'schema']);
    expect(r.status).toBe(0);
    const schema = JSON.parse(r.stdout) as { properties: { clusters: { type: string } } };
    expect(schema.properties.clusters.type).toBe('array');
  });

  it.each(['bash', 'zsh', 'fish'])('completion %s prints a script covering the commands', async (shell) => {
    const r = await platctl(['completion', shell]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('platctl');
    expect(r.stdout).toContain('bootstrap');
    expect(r.stdout).toContain('dry-run');
  });

  it('the bash completion script is valid bash', async () => {
    const script = path.join(tmp, 'completion.bash');
    writeFileSync(script, (await platctl(['completion', 'bash'])).stdout);
    const check = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('completion tcsh exits 2', async () => {
    const r = await platctl(['completion', 'tcsh']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown shell "tcsh"');
  });
});

describe.concurrent('status --vars', () => {
  const arn = 'arn:aws:iam::123456789012:role/platctl/demo/eks-cert-manager-demo';
  let config: string;
  beforeAll(() => {
    config = path.join(tmp, 'vars.yaml');
    writeFileSync(config, stringify(rawPlatform()));
    // A local journal as the iam and vars steps leave it (state before the cluster exists is local).
    const done = (outputs: Record<string, unknown>) => ({ status: 'done', outputs });
    const state = {
      version: 1,
      cluster: 'demo',
      steps: { iam: done({ certManagerRoleArn: arn }), vars: done({ configMap: 'flux-system/platform-vars' }) },
    };
    // Its own PLATCTL_HOME: the other files' runs (concurrent) never see this journal.
    mkdirSync(path.join(tmp, 'vars-home', 'demo'), { recursive: true });
    writeFileSync(path.join(tmp, 'vars-home', 'demo', 'state.json'), JSON.stringify(state));
  });
  const home = () => ({ PLATCTL_HOME: path.join(tmp, 'vars-home') });
  const status = (...more: string[]) => platctl(['status', 'demo', '--config', config, '--vars', ...more], home());

  it('prints the variables as JSON, without those no step has recorded, and says which are missing', async () => {
    const r = await status('--output', 'json');
    expect(r.status, r.stderr).toBe(0);
    const vars = JSON.parse(r.stdout) as Record<string, string>;
    expect(vars).toMatchObject({ cluster_name: 'demo', aws_region: 'us-east-1', cert_manager_iam_role_arn: arn });
    expect(vars).not.toHaveProperty('vault_iam_role_arn');
    expect(r.stderr).toMatch(/not set yet \(the iam step has not recorded them\): .*vault_iam_role_arn/);
  });

  it('prints them for a shell with --output env, and as a table naming the step by default', async () => {
    const env = await status('-o', 'env');
    expect(env.status, env.stderr).toBe(0);
    expect(env.stdout).toContain(`cert_manager_iam_role_arn='${arn}'\n`);
    const shell = spawnSync('sh', ['-c', `${env.stdout}\nprintf %s "$cert_manager_iam_role_arn"`], {
      encoding: 'utf8',
    });
    expect(shell.stdout).toBe(arn);
    const text = await status();
    expect(text.stdout).toMatch(
      new RegExp(`^cert_manager_iam_role_arn +${arn.replaceAll('/', '\\/')} +\\(iam\\)$`, 'm'),
    );
    expect(text.stdout).toMatch(/^aws_region +us-east-1 +\(config\)$/m);
  });

  it('--output env without --vars is a usage error', async () => {
    const r = await platctl(['status', 'demo', '--config', config, '--output', 'env'], home());
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--output env needs --vars');
  });
});

describe.concurrent('colour on a terminal', () => {
  /** Runs the CLI under script(1), so stderr is a real TTY. */
  const onTty = (args: string[], env: Record<string, string>) =>
    run('script', ['-qec', [process.execPath, bin, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], {
      env: { ...process.env, PLATCTL_HOME: path.join(tmp, 'home'), ...env },
    });

  it('colours the failure line on a TTY, and NO_COLOR or --no-color removes every ANSI escape', async () => {
    const { NO_COLOR: _n, ...noNoColor } = process.env;
    const coloured = await run(
      'script',
      ['-qec', `'${process.execPath}' '${bin}' bootstrap demo --config '${badConfig}'`, '/dev/null'],
      { env: { ...noNoColor, PLATCTL_HOME: path.join(tmp, 'home') } },
    );
    expect(coloured.stdout).toContain('clusters[0].aws.region');
    expect(coloured.stdout).toContain('\u001b[31m');
    const noColor = await onTty(['bootstrap', 'demo', '--config', badConfig], { NO_COLOR: '1' });
    expect(noColor.stdout).toContain('clusters[0].aws.region');
    expect(noColor.stdout).not.toContain('\u001b[');
    const flag = await onTty(['bootstrap', 'demo', '--config', badConfig, '--no-color'], {});
    expect(flag.stdout).toContain('clusters[0].aws.region');
    expect(flag.stdout).not.toContain('\u001b[');
  });
});

describe.concurrent('teardown confirmation', () => {
  // One file per test: they run concurrently, and a rewrite could truncate the file under the other's CLI.
  const config = (name: string) => {
    const file = path.join(tmp, `teardown-${name}.yaml`);
    writeFileSync(file, stringify(rawPlatform()));
    return file;
  };

  it('without a terminal and without --yes refuses (exit 2) before touching anything, naming --yes', async () => {
    const r = await platctl(['teardown', 'demo', '--config', config('no-tty')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('asks you to type the cluster name');
    expect(r.stderr).toContain('pass --yes');
  });

  it('on a terminal, a wrong name aborts with exit 3', async () => {
    // script(1) gives the CLI a real terminal; the typed answer arrives on it.
    const r = await run(
      'script',
      ['-qec', `'${process.execPath}' '${bin}' teardown demo --config '${config('tty')}' --no-color`, '/dev/null'],
      // Its own home: sharing the other test's, one run could find the other's lock on "demo" (exit 3).
      { input: 'prod\r', env: { ...process.env, PLATCTL_HOME: path.join(tmp, 'home-tty') } },
    );
    // The terminal's text, without @inquirer's cursor moves and line wrapping.
    const screen = r.stdout.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\s+/g, ' ');
    expect(r.status, screen).toBe(3);
    expect(screen).toContain('This destroys cluster demo and everything platctl made');
    expect(screen).toContain('teardown aborted: "prod" is not "demo"');
  });
});

describe.concurrent('start-up cost', () => {
  let hooks: string;
  beforeAll(() => {
    hooks = path.join(tmp, 'trace-register.mjs');
    // A module resolve hook that appends every resolved URL to $PLATCTL_TRACE_MODULES.
    writeFileSync(
      path.join(tmp, 'trace-hooks.mjs'),
      "import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) {\n  const r = await next(s, c);\n  appendFileSync(process.env.PLATCTL_TRACE_MODULES, r.url + '\\n');\n  return r;\n}\n",
    );
    writeFileSync(hooks, "import { register } from 'node:module';\nregister('./trace-hooks.mjs', import.meta.url);\n");
  });

  const traced = async (name: string, start: (env: Record<string, string>) => Promise<Run>) => {
    const file = path.join(tmp, `${name}.modules`);
    const r = await start({ PLATCTL_TRACE_MODULES: file });
    return { status: r.status, modules: readFileSync(file, 'utf8').split('\n').filter(Boolean) };
  };
  // The build bundles the AWS SDK into chunks under dist/chunks, so a loaded module is "heavy" when it is
  // client-node from node_modules, or a chunk that carries AWS SDK code.
  const heavy = (m: string) =>
    /node_modules\/(@kubernetes\/client-node|@aws-sdk)\//.test(m) ||
    (m.includes('/dist/chunks/') && readFileSync(new URL(m), 'utf8').includes('aws-sdk-js'));

  it('the tracer sees AWS SDK chunks when a command needs them (control)', async () => {
    const t = await traced('control', (env) =>
      platctl(
        ['eks', 'token', '--cluster', 'x', '--region', 'us-east-1'],
        { ...env, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY' },
        ['--import', hooks],
      ),
    );
    expect(t.modules.filter(heavy).length).toBeGreaterThan(0);
  });

  it.each([[['--help']], [['bootstrap', '--help']], [['--version']], [['config', 'schema']]])(
    'platctl %j loads neither @kubernetes/client-node nor @aws-sdk',
    async (args) => {
      const t = await traced(args.join('-'), (env) => platctl(args, env, ['--import', hooks]));
      expect(t.status).toBe(0);
      expect(t.modules.some((m) => m.endsWith('/dist/main.js'))).toBe(true);
      expect(t.modules.filter(heavy)).toEqual([]);
    },
  );
});
