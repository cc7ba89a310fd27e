// Generates src/api/schema.ts (the API's TypeScript types) from openapi.json, the server's OpenAPI
// document as `renkei openapi` prints it (crates/renkei/tests/openapi_copy.rs keeps the two
// equal). `--check` only compares: it fails when the committed schema.ts is not what this makes.
//
//   node scripts/gen-api.mjs [--check]      (npm run gen:api, npm run check:api)

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const input = join(web, "openapi.json");
const output = join(web, "src/api/schema.ts");

const doc = JSON.parse(readFileSync(input, "utf8"));

// Every operation needs an operationId of its own: a shared one would declare one member of
// `operations` twice (crates/renkei/tests/openapi.rs checks this on the server's side too).
const seen = new Map();
for (const item of Object.values(doc.paths ?? {})) {
  for (const op of Object.values(item)) {
    if (op && typeof op === "object" && typeof op.operationId === "string") {
      seen.set(op.operationId, (seen.get(op.operationId) ?? 0) + 1);
    }
  }
}
const shared = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
if (shared.length) {
  console.error(`gen-api: operationIds used by more than one operation: ${shared.sort().join(", ")}`);
  process.exit(1);
}

const text = COMMENT_HEADER + astToString(await openapiTS(doc, { alphabetize: true, enumValues: true }));

if (process.argv.includes("--check")) {
  const committed = readFileSync(output, "utf8");
  if (committed !== text) {
    console.error("src/api/schema.ts is not generated from openapi.json: run `npm run gen:api` and commit it");
    process.exit(1);
  }
  console.log("src/api/schema.ts is generated from openapi.json");
} else {
  writeFileSync(output, text);
  console.log(`wrote ${output}`);
}
