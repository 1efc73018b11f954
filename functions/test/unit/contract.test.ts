// The generated client contract (docs/contract/) is complete, its examples are valid, and it is not stale.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { CONTRACT_DIR, contractFiles, ERRORS_PAGE, errorsPage, listFiles } from "../../devtools/contract/generate";
import { CALLABLES, DOCUMENTS } from "../../devtools/contract/registry";

describe("client contract (docs/contract/, docs/errors.md)", () => {
  it("covers every callable that src/index.ts wires, and nothing else", () => {
    const index = readFileSync(path.resolve(__dirname, "..", "..", "src", "index.ts"), "utf8");
    const wired = [...index.matchAll(/(?:appCallable|replayProtectedCallable)\(\s*"(\w+)"/g)].map((match) => match[1]).sort();
    assert.ok(wired.length > 20, "found the callables in src/index.ts");
    assert.deepEqual(CALLABLES.map((entry) => entry.name).sort(), wired);
  });

  it("every example is accepted by the schema it illustrates", () => {
    for (const entry of DOCUMENTS) assert.doesNotThrow(() => entry.schema.parse(entry.example), entry.name);
    for (const entry of CALLABLES) {
      assert.doesNotThrow(() => entry.request.parse(entry.requestExample), `${entry.name} request`);
      assert.doesNotThrow(() => entry.response.parse(entry.responseExample), `${entry.name} response`);
    }
  });

  it("the committed files are what the schemas generate (run `npm run contract` after changing a schema)", () => {
    const expected = contractFiles();
    assert.ok(existsSync(CONTRACT_DIR), "docs/contract/ exists: run `npm run contract`");
    assert.deepEqual(listFiles(CONTRACT_DIR), [...expected.keys()].sort(), "docs/contract/ has exactly the generated files: run `npm run contract`");
    for (const [relative, content] of expected) {
      assert.equal(readFileSync(path.join(CONTRACT_DIR, relative), "utf8"), content, `docs/contract/${relative} is stale: run \`npm run contract\``);
    }
    assert.equal(readFileSync(ERRORS_PAGE, "utf8"), errorsPage(), "docs/errors.md is stale: run `npm run contract`");
  });
});
