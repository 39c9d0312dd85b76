// Runs the CLI from source under tsx, so tests exercise the current code without a build.
import { main } from '../../src/main.js';

await main(process.argv);
