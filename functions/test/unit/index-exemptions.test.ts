// firestore.indexes.json exempts monotonically increasing fields of high-write collections from single-field indexing
// (docs/operations.md "Index exemptions"): no query may filter or order on an exempted field, or production would
// refuse it. This checks every query written in the code, the dev tools and the client docs against the list.
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..", "..");

interface FieldOverride {
  collectionGroup: string;
  fieldPath: string;
  indexes: unknown[];
}

function filesUnder(dir: string, extensions: string[]): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === "node_modules" || name === "lib" ? [] : filesUnder(full, extensions);
    return extensions.some((ext) => name.endsWith(ext)) ? [full] : [];
  });
}

describe("index exemptions (firestore.indexes.json fieldOverrides)", () => {
  const config = JSON.parse(readFileSync(path.join(ROOT, "firestore.indexes.json"), "utf8")) as {
    indexes: { collectionGroup: string; fields: { fieldPath: string }[] }[];
    fieldOverrides: FieldOverride[];
  };
  const exempted = config.fieldOverrides.filter((override) => override.indexes.length === 0);

  it("exempts the monotonically increasing fields of the high-write collections", () => {
    const names = exempted.map((o) => `${o.collectionGroup}.${o.fieldPath}`);
    for (const expected of ["providerEvents.processedAt", "events.occurredAt", "donations.updatedAt", "wishes.updatedAt", "wishes.raisedAsOf", "digestDonations.recordedAt", "feedDonations.recordedAt"]) {
      assert.ok(names.includes(expected), `${expected} is exempted`);
    }
  });

  it("no composite index and no query in src, devtools, ops or the docs uses an exempted field", () => {
    const sources = [
      ...filesUnder(path.join(ROOT, "functions", "src"), [".ts"]),
      ...filesUnder(path.join(ROOT, "functions", "devtools"), [".ts"]),
      ...filesUnder(path.join(ROOT, "docs"), [".md"]),
      path.join(ROOT, "README.md"),
    ];
    const text = sources.map((file) => readFileSync(file, "utf8")).join("\n");
    for (const { collectionGroup, fieldPath } of exempted) {
      const composite = config.indexes.filter((index) => index.collectionGroup === collectionGroup && index.fields.some((f) => f.fieldPath === fieldPath));
      assert.deepEqual(composite, [], `${collectionGroup}.${fieldPath} is in a composite index`);
      const query = new RegExp(`(where|orderBy)\\(\\s*["'\`]${fieldPath.replace(".", "\\.")}["'\`]`, "g");
      // Only queries on the exempted collection count; the field name may be queried on another collection.
      const hits = [...text.matchAll(query)].map((m) => text.slice(Math.max(0, (m.index ?? 0) - 200), m.index)).filter((before) => before.toLowerCase().includes(collectionGroup.toLowerCase()));
      assert.deepEqual(hits, [], `a query on ${collectionGroup}.${fieldPath}`);
    }
  });

  it("every composite index docs/operations.md names for a console query exists, its fields in that order", () => {
    const docs = readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");
    const named = [...docs.matchAll(/composite index ((?:`[^`]+`(?: \+ )?)+)/g)].map((m) => [...(m[1] ?? "").matchAll(/`([^`]+)`/g)].map((f) => f[1] ?? ""));
    assert.ok(named.some((fields) => fields.join("+") === "status+createdAt"), "the runbook's pending_onboarding payouts query names its index");
    for (const fields of named) {
      const found = config.indexes.some((index) => index.fields.length === fields.length && index.fields.every((f, i) => f.fieldPath === fields[i]));
      assert.ok(found, `composite index ${fields.join(" + ")} is in firestore.indexes.json`);
    }
  });
});
