/**
 * `platctl status <cluster> --vars`: the cluster variables as the `vars` step writes them to
 * flux-system/platform-vars, computed from the recorded outputs (no request beyond reading state).
 */
import type { ClusterConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { maskSecrets } from '../secrets.js';
import { stateOutputs } from '../state/outputs.js';
import type { State } from '../state/types.js';
import { PLATFORM_VAR_CATALOGUE, platformVars, unsetVars, type VarSource } from '../vars/catalogue.js';
import type { ClusterFlags } from './common.js';

/** A value quoted for a POSIX shell: single quotes, an embedded `'` as `'\''`. */
export const shellQuote = (v: string): string => `'${v.replaceAll("'", `'\\''`)}'`;

/** The lines (or JSON) `status --vars` prints for these variables. */
export function renderVars(vars: Record<string, string>, output: ClusterFlags['output']): string[] {
  const names = Object.keys(vars);
  if (output === 'json') return [JSON.stringify(vars, null, 2)];
  if (output === 'env') return names.map((n) => `${n}=${shellQuote(vars[n] ?? '')}`);
  const step = new Map(PLATFORM_VAR_CATALOGUE.map((v) => [v.name as string, v.step]));
  const width = Math.max(0, ...names.map((n) => n.length));
  const valueWidth = Math.min(80, Math.max(0, ...names.map((n) => (vars[n] ?? '').length)));
  return names.map((n) => `${n.padEnd(width)}  ${(vars[n] ?? '').padEnd(valueWidth)}  (${step.get(n)})`);
}

/** Prints the variables of `state` for `cluster`; warns on stderr about the ones no step has filled yet. */
export function printVars(cluster: ClusterConfig, state: State, flags: ClusterFlags, log: Logger): void {
  const source: VarSource = { cluster, outputs: stateOutputs(state).outputs };
  for (const [step, names] of unsetVars(source))
    log.warning(`not set yet (the ${step} step has not recorded them): ${names.join(', ')}`);
  if (state.steps.vars?.status !== 'done')
    log.warning('the vars step has not written flux-system/platform-vars yet: run platctl bootstrap');
  for (const line of renderVars(platformVars(source), flags.output)) process.stdout.write(`${maskSecrets(line)}\n`);
}
