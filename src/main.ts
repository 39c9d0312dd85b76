/**
 * Entry point: parse argv, run the command, map errors to exit codes. Commands are imported only when chosen,
 * so `platctl --help` loads neither the Kubernetes client nor the AWS SDK.
 */
import { wantColour } from './log.js';
import { reportError } from './report-error.js';
import { registerEnvironmentSecrets } from './secrets.js';

/** Runs the CLI and exits the process with the right code. */
export async function main(argv: string[]): Promise<void> {
  registerEnvironmentSecrets();
  const debug = argv.includes('--debug');
  // Stack traces (only with --debug) point at the TypeScript sources, not at the bundle's chunks.
  if (debug) process.setSourceMapsEnabled(true);
  const colour = wantColour(argv.includes('--no-color') ? false : undefined);
  let code: number;
  try {
    const { buildProgram } = await import('./cli.js');
    code = await buildProgram().run(argv);
  } catch (err) {
    code = reportError(err, debug, colour);
  }
  process.exitCode = code;
}
