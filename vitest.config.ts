import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { labWorkers } from './test/lab/config.js';

/**
 * Two projects. `unit`: no lab, fakes behind narrow interfaces (`npm run test:unit`, well under 30 s).
 * `lab`: files named `*.lab.test.ts`, against the real components the lab's global setup starts (once, only for
 * this project). `npm test` runs both.
 */
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.lab.test.ts'],
          // One module registry per worker: the AWS SDK, client-node and openpgp load once, not once per file
          // (that import was ~25 s of a 75–100 s run). Each file must leave the process as it found it, which
          // test/helpers/unit-file-guard.ts restores and enforces.
          isolate: false,
          setupFiles: ['test/helpers/unit-file-guard.ts'],
          // vitest's default is one worker fewer than the cores: on a 2-core machine that is one file at a time,
          // with the second core idle while a file waits on a timer or a child process.
          maxWorkers: Math.max(2, availableParallelism() - 1),
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/**/*.lab.test.ts'],
          globalSetup: ['test/lab/global-setup.ts'],
          // Around every lab file: it must leave the lab as it found it (test/lab/file-guard.ts).
          setupFiles: ['test/lab/file-guard.ts'],
          // After the unit files. One file per worker at a time, and each worker has a lab of its own (apiserver,
          // moto, OpenBao, git servers, Flux controllers: global-setup.ts, env.ts), so no two running files share
          // a Lease, a state ConfigMap, an account or a fleet repository.
          sequence: { groupOrder: 1 },
          maxWorkers: labWorkers(),
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
