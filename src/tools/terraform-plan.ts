/**
 * Reading terraform's machine-readable output: the plan summary from `show -json <plan>`, progress lines from
 * `apply -json`, and step outputs from `output -json`. Pure functions over text, unit-tested on their own.
 */
import type { StepOutputs } from '../state/types.js';

/** What a plan would do. */
export interface PlanSummary {
  add: number;
  change: number;
  destroy: number;
  /** One line per resource: "+ module.vpc.aws_vpc.this", "~ …", "- …", "-/+ …" (replace). */
  resources: string[];
  /** True when only outputs would change. */
  outputsOnly: boolean;
}

interface ShowJson {
  resource_changes?: { address: string; change: { actions: string[] } }[];
  output_changes?: Record<string, { actions: string[] }>;
}

const symbol = (actions: string[]): string | undefined => {
  const a = actions.join(',');
  if (a === 'create') return '+';
  if (a === 'update') return '~';
  if (a === 'delete') return '-';
  if (a === 'delete,create') return '-/+';
  if (a === 'create,delete') return '+/-';
  return undefined; // no-op, read
};

/** Summarises `show -json <planfile>`. */
export function summarizePlan(showJson: string): PlanSummary {
  const plan = JSON.parse(showJson) as ShowJson;
  const s: PlanSummary = { add: 0, change: 0, destroy: 0, resources: [], outputsOnly: false };
  for (const rc of plan.resource_changes ?? []) {
    const sym = symbol(rc.change.actions);
    if (!sym) continue;
    if (rc.change.actions.includes('create')) s.add++;
    if (rc.change.actions.includes('delete')) s.destroy++;
    if (sym === '~') s.change++;
    s.resources.push(`${sym} ${rc.address}`);
  }
  const outputChanges = Object.entries(plan.output_changes ?? {}).filter(
    ([, c]) => !c.actions.every((x) => x === 'no-op'),
  );
  s.outputsOnly = s.resources.length === 0 && outputChanges.length > 0;
  if (s.outputsOnly) s.resources.push(...outputChanges.map(([name]) => `~ output.${name}`));
  return s;
}

/** "N to add, M to change, K to destroy" (plus a note when only outputs change). */
export function summaryLine(s: PlanSummary): string {
  const line = `${s.add} to add, ${s.change} to change, ${s.destroy} to destroy`;
  return s.outputsOnly ? `${line} (outputs change)` : line;
}

interface UiMessage {
  type?: string;
  '@message'?: string;
  hook?: {
    resource?: { addr?: string };
    action?: string;
    elapsed_seconds?: number;
    id_value?: string;
  };
  changes?: { add: number; change: number; remove: number; operation?: string };
}

/**
 * One progress line for an `apply -json` (or `destroy -json`) message, or undefined for messages not worth
 * showing. Provisioner output is deliberately not shown: it may echo anything.
 */
export function progressLine(line: string): string | undefined {
  let msg: UiMessage;
  try {
    msg = JSON.parse(line) as UiMessage;
  } catch {
    return undefined;
  }
  const addr = msg.hook?.resource?.addr;
  const action = msg.hook?.action ?? '';
  const elapsed = msg.hook?.elapsed_seconds;
  switch (msg.type) {
    case 'apply_start':
      return `${addr}: ${action} started`;
    case 'apply_progress':
      return `${addr}: ${action} in progress (${elapsed ?? 0}s elapsed)`;
    case 'apply_complete':
      return `${addr}: ${action} complete after ${elapsed ?? 0}s`;
    case 'apply_errored':
      return `${addr}: ${action} failed after ${elapsed ?? 0}s`;
    case 'provision_start':
      return `${addr}: running provisioner`;
    case 'change_summary':
      return msg['@message'];
    default:
      return undefined;
  }
}

/** `output -json`: name → {value, sensitive, type}. */
export type TerraformOutputs = Record<string, { value: unknown; sensitive?: boolean }>;

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Step outputs from `output -json`: snake_case names become camelCase (cluster_name → clusterName); sensitive
 * outputs and values that are not plain strings, numbers, booleans or string arrays are left out.
 */
export function stepOutputsFrom(outputs: TerraformOutputs): StepOutputs {
  const out: StepOutputs = {};
  for (const [name, o] of Object.entries(outputs)) {
    if (o.sensitive) continue;
    const v = o.value;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[camel(name)] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[camel(name)] = v as string[];
  }
  return out;
}
