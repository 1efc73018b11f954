// Generates docs/contract/ from devtools/contract/registry.ts: one JSON Schema (draft 2020-12) per client-readable
// document and per callable request and response, each with its JSON example (`examples`), plus an index.
//   npm run contract            (root) writes the files
// test/unit/contract.test.ts fails when the committed files differ from what this generates (a stale contract).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { errorsJson, errorsPage } from "./errors";
import { CALLABLES, DOCUMENTS } from "./registry";

export const CONTRACT_DIR = path.resolve(__dirname, "..", "..", "..", "docs", "contract");
/** The error catalogue for people (docs/errors.md); its machine-readable twin is contract/errors.json. */
export const ERRORS_PAGE = path.resolve(CONTRACT_DIR, "..", "errors.md");
export { errorsPage };

const TIMESTAMP_NOTE = "A Firestore Timestamp (the SDKs give a Timestamp object; ISO-8601 in the examples).";

/** JSON Schema of a zod schema as clients see it: dates are Firestore Timestamps, integers without JS-safe bounds. */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output", extra: Record<string, unknown>): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: (ctx) => {
      const json = ctx.jsonSchema as Record<string, unknown>;
      if (ctx.zodSchema._zod.def.type === "date") {
        Object.assign(json, { type: "string", format: "date-time", description: TIMESTAMP_NOTE, "x-firestore-type": "timestamp" });
      }
      if (json.minimum === Number.MIN_SAFE_INTEGER) delete json.minimum;
      if (json.maximum === Number.MAX_SAFE_INTEGER) delete json.maximum;
    },
  });
  const { $schema, ...rest } = generated as Record<string, unknown>;
  const { examples, ...heading } = extra;
  return { $schema, ...heading, ...rest, examples };
}

/** JSON as the wire (or a console export) shows it: Dates become ISO strings. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;
const file = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Every file of docs/contract/, by path relative to it. */
export function contractFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const index: string[] = [
    "# Client contract (generated)",
    "",
    "JSON Schema (draft 2020-12) of every document the apps may read and of every callable's request and response,",
    "generated from the zod schemas the server validates with (`functions/devtools/contract/`). Each file carries a JSON",
    "example under `examples`. Do not edit by hand: run `npm run contract`; `npm test` fails when these files are stale.",
    "Timestamps are Firestore `Timestamp`s (`x-firestore-type: timestamp`), shown as ISO-8601 strings in the examples.",
    "Behaviour, rules and error codes: the pages named below.",
    "",
    "## Documents",
    "",
    "| Path | Read by | Schema |",
    "|---|---|---|",
  ];
  for (const entry of DOCUMENTS) {
    const name = `documents/${entry.name}.schema.json`;
    files.set(name, file(jsonSchemaOf(entry.schema, "output", { title: entry.path, description: `Read by: ${entry.readBy}.`, examples: [plain(entry.example)] })));
    index.push(`| \`${entry.path}\` | ${entry.readBy} | [${entry.name}](${name}) |`);
  }
  index.push("", "## Callables (region europe-west1)", "", "| Callable | Request | Response | Described in |", "|---|---|---|---|");
  for (const entry of CALLABLES) {
    const request = `callables/${entry.name}.request.schema.json`;
    const response = `callables/${entry.name}.response.schema.json`;
    files.set(request, file(jsonSchemaOf(entry.request, "input", { title: `${entry.name} request`, examples: [plain(entry.requestExample)] })));
    files.set(response, file(jsonSchemaOf(entry.response, "output", { title: `${entry.name} response`, examples: [plain(entry.responseExample)] })));
    index.push(`| \`${entry.name}\` | [request](${request}) | [response](${response}) | \`${entry.doc}\` |`);
  }
  index.push("", "## Errors", "", "Every `details.reason` and `invalid_input` problem: [errors.json](errors.json); for people: `docs/errors.md`.");
  files.set("errors.json", errorsJson());
  files.set("README.md", `${index.join("\n")}\n`);
  return files;
}

/** Writes docs/contract/ afresh (files no longer generated are removed), and docs/errors.md. */
export function writeContract(dir = CONTRACT_DIR): number {
  writeFileSync(ERRORS_PAGE, errorsPage());
  rmSync(dir, { recursive: true, force: true });
  const files = contractFiles();
  for (const [relative, content] of files) {
    mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
    writeFileSync(path.join(dir, relative), content);
  }
  return files.size;
}

/** Paths (relative, sorted) of the files under `dir`. */
export function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]))
    .sort();
}

if (require.main === module) {
  const count = writeContract();
  console.log(`[contract] wrote ${count} files to ${path.relative(process.cwd(), CONTRACT_DIR)} and ${path.relative(process.cwd(), ERRORS_PAGE)}`);
}
