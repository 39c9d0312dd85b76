// Builds the CLI: one esbuild bundle with code splitting. Every lazy import() in the source stays a separate
// chunk, so `platctl --help` loads only the entry and commander, and each AWS client is tree-shaken down to the
// commands platctl sends (client-ec2 alone is ~0.4 s to import unbundled). Types are checked by `tsc` separately.
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// Only the AWS SDK is bundled (that is where the start-up time goes), and commander (on the --help path: bundled,
// it loads without a trip through the CommonJS loader). They are devDependencies, so an installed platctl does not
// fetch them a second time; every package in `dependencies` loads from node_modules as usual, exactly as published.
const deps = Object.keys(JSON.parse(readFileSync('package.json', 'utf8')).dependencies);
const aws = (d) => d.startsWith('@aws-sdk/') || d.startsWith('@smithy/') || d.startsWith('@aws-crypto/');
const bundled = (d) => aws(d) || d === 'commander';

// Chunk names carry content hashes: start from an empty dist/ so old chunks do not pile up.
rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: { main: 'src/main.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // Prefer each package's ES modules: named exports survive code splitting, and they tree-shake.
  mainFields: ['module', 'main'],
  target: 'node22',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  external: deps.filter((d) => !bundled(d)).flatMap((d) => [d, `${d}/*`]),
  sourcemap: 'linked',
  // Bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __platctlRequire } from 'node:module'; const require = __platctlRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
