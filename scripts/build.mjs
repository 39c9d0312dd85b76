// Builds the CLI: one esbuild bundle with code splitting. Every lazy import() in the source stays a separate
// chunk, so `platctl --help` loads only the entry and commander, and each AWS client is tree-shaken down to the
// commands platctl sends (client-ec2 alone is ~0.4 s to import unbundled). Types are checked by `tsc` separately.
import { readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { build } from 'esbuild';

// What a run loads on every command is bundled: the AWS SDK, commander, zod, yaml and ws. Every module is a file
// Node must resolve, read and link, so bundling them saves that per file (zod alone was 95 files, yaml 72). They
// are devDependencies, so an installed platctl does not fetch them a second time. What only some commands load
// lazily (listr2, the prompts, execa, openpgp, Octokit, client-node) is in `dependencies` and loads from
// node_modules as usual, exactly as published.
const external = Object.keys(JSON.parse(readFileSync('package.json', 'utf8')).dependencies);

// Node builds an ES module facade for a built-in reached by `import`, and reads every export to fill it: that is
// what loads undici for node:http (its WebSocket getters), ~20-40 ms of a run. Bundled code reaches built-ins
// through require(), as CommonJS code does, so nothing is read before it is used. A static import becomes a
// CommonJS module (`module.exports = require(…)`: esbuild resolves each name where it is used). An import() keeps
// its named exports across chunks only from an ES module, so it gets one with the built-in's plain values.
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    const req = createRequire(import.meta.url);
    b.onResolve({ filter: /^(node:)?[a-z_/0-9]+$/ }, (a) => {
      const name = a.path.replace(/^node:/, '');
      if (!builtinModules.includes(name) || name === 'module') return undefined;
      if (a.namespace.startsWith('builtin')) return { path: `node:${name}`, external: true };
      return { path: `node:${name}`, namespace: a.kind === 'dynamic-import' ? 'builtin-esm' : 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (a) => ({
      contents: `module.exports = require(${JSON.stringify(a.path)});`,
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'builtin-esm' }, (a) => {
      const plain = Object.entries(Object.getOwnPropertyDescriptors(req(a.path)))
        .filter(([k, d]) => 'value' in d && /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default')
        .map(([k]) => k);
      return {
        contents: [
          "import { createRequire } from 'node:module';",
          `const m = createRequire(import.meta.url)(${JSON.stringify(a.path)});`,
          'export default m;',
          `export const { ${plain.join(', ')} } = m;`,
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

// The AWS SDK's shape tables (`schemas_0.js`) key their member traits by computed keys naming string constants
// (`{ [_xN]: _p }`), which esbuild must assume may run code, so not one of the thousands of unused shapes was
// dropped: EC2 alone was ~1 MB of every run that reaches it. With the constants written in, the keys are plain
// strings and tree shaking keeps only the shapes of the commands platctl sends.
const awsShapesShakeable = {
  name: 'aws-shapes-shakeable',
  setup(b) {
    b.onLoad({ filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ }, (a) => {
      const src = readFileSync(a.path, 'utf8');
      const consts = new Map([...src.matchAll(/^const (_\w+) = ("[^"\\]*");$/gm)].map((m) => [m[1], m[2]]));
      return {
        contents: src.replace(/\[(_\w+)\]:/g, (m, k) => (consts.has(k) ? `[${consts.get(k)}]:` : m)),
        loader: 'js',
      };
    });
  },
};

// zod's `z` carries all 63 of its locales as `z.locales`, so none can be dropped. platctl speaks
// English, which zod configures itself (`locales/en.js`); the index of the others is left out.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: 'js',
    }));
  },
};

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
  external: external.flatMap((d) => [d, `${d}/*`]),
  sourcemap: 'linked',
  // Bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __platctlRequire } from 'node:module'; const require = __platctlRequire(import.meta.url);",
  },
  logLevel: 'warning',
  minify: true,
  // yaml's ES module build (its Node build is CommonJS, whose named exports an import() across chunks loses).
  alias: { yaml: './node_modules/yaml/browser/index.js' },
  plugins: [builtinsByRequire, awsShapesShakeable, zodEnglishOnly],
});
