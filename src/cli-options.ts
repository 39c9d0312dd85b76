/**
 * What the command tree (src/cli.ts) and the commands share: the global flags' type and the option builders
 * (commander only), so no command imports cli.ts back.
 */
import { Option } from 'commander';

/** Global flags every command sees. */
export interface GlobalOptions {
  debug?: boolean;
  color?: boolean;
  kubeconfig?: string;
  context?: string;
}

/** `-o, --output text|json` (more formats where a command prints more). */
export const outputOption = (formats: readonly string[] = ['text', 'json']) =>
  new Option('-o, --output <format>', 'output format').choices(formats).default('text');
/** `-c, --config <file>` (default platform.yaml). */
export const configOption = () => new Option('-c, --config <file>', 'platform config file').default('platform.yaml');
/** Collects a repeatable flag's values. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
