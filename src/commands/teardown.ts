/** `platctl teardown <cluster>`: confirms by cluster name, then destroys in reverse order. */
import type { Command } from 'commander';
import { createPrompter } from '../clients/prompt.js';
import { PlatctlError } from '../errors.js';
import { runTeardown } from '../runner/pipeline.js';
import { summarise } from '../runner/report.js';
import { StateSession } from '../runner/session.js';
import { loadSteps } from '../steps-registry.js';
import { printResult, setupCommand } from './common.js';
import { finishRun } from './finish.js';

/** Destroys every applied step, last first, and returns the exit code. */
export default async function teardown(clusterName: string, _opts: unknown, cmd: Command) {
  const setup = await setupCommand(clusterName, cmd);
  const steps = await loadSteps();
  const { session, state } = await StateSession.open({
    cluster: clusterName,
    log: setup.log,
    command: 'teardown',
    kube: setup.kube,
    lock: !setup.flags.dryRun,
    breakLock: setup.flags.breakLock,
  });
  let current = state;
  try {
    const base = setup.base(() => current.steps.access?.outputs ?? {});
    if (!setup.flags.dryRun && !setup.flags.yes) {
      const prompt = createPrompter({ yes: false, interactive: base.interactive });
      const typed = await prompt.input(
        `This destroys cluster ${clusterName} and everything platctl made. Type the cluster name to confirm`,
      );
      if (typed !== clusterName)
        throw new PlatctlError('ABORTED', `teardown aborted: "${typed}" is not "${clusterName}"`);
    }
    const report = await runTeardown({
      steps,
      base,
      session,
      state,
      tty: setup.tty,
      debug: setup.flags.debug,
      colour: setup.colour,
      onState: (s) => {
        current = s;
      },
    });
    printResult(setup.flags, report, () => summarise(report));
    return finishRun(report, setup);
  } finally {
    await session.close();
  }
}
