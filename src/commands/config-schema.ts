/** `platctl config schema`: prints the JSON Schema of platform.yaml, generated from the zod schema. */
import { platformJsonSchema } from '../config/schema.js';

/** Prints the schema and returns 0. */
export default async function configSchema() {
  process.stdout.write(`${JSON.stringify(platformJsonSchema(), null, 2)}\n`);
  return 0;
}
