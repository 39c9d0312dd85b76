/** Option builders shared by the command tree (src/cli.ts) and the tenant commands' flags (commander only). */
import { Option } from 'commander';

/** `-o, --output text|json`. */
export const outputOption = () =>
  new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');
/** `-c, --config <file>` (default platform.yaml). */
export const configOption = () => new Option('-c, --config <file>', 'platform config file').default('platform.yaml');
/** Collects a repeatable flag's values. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
