#!/usr/bin/env node
// Checks the import graph of functions/src against the rooms table of docs/architecture.md, so the doc and the code
// cannot drift apart. It fails on:
//   - a source file that belongs to no room of the table;
//   - an import between two rooms that the table does not allow (a lower room importing a higher one included);
//   - an import between two rooms of the same tier (sibling features), even when the table lists it;
//   - a table that lets a room import a room of its own or a higher tier (the table itself must point downwards);
//   - a cycle of files (type-only imports count: a cycle of types is a cycle of meaning);
//   - a `firebase-functions` import in a room whose "firebase-functions" column says no.
// Usage: node scripts/check-architecture.mjs [--root DIR]   (DIR holds docs/architecture.md and functions/src)
//        node scripts/check-architecture.mjs --self-test    (proves on small fixtures that every rule can fail)
// Plain Node, no dependencies: imports are read as text (static import/export ... from, import(), require()).
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const DOC = "docs/architecture.md";
const SRC = "functions/src";

/** The rooms table: the markdown table whose header has the columns room, tier, paths, may import, firebase-functions. */
export function parseRooms(markdown) {
  const lines = markdown.split("\n");
  const cells = (line) => line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((cell) => cell.trim());
  const start = lines.findIndex((line) => line.trim().startsWith("|") && /may import/i.test(line) && /firebase-functions/i.test(line));
  if (start < 0) throw new Error(`${DOC}: no rooms table (a table with the columns room | tier | paths | may import | firebase-functions)`);
  const header = cells(lines[start]).map((name) => name.toLowerCase());
  const column = (name) => {
    const index = header.indexOf(name);
    if (index < 0) throw new Error(`${DOC}: the rooms table has no column '${name}'`);
    return index;
  };
  const [roomCol, tierCol, pathsCol, importsCol, ffCol] = ["room", "tier", "paths", "may import", "firebase-functions"].map(column);
  const names = (text) => (text.match(/`[^`]+`/g) ?? []).map((name) => name.slice(1, -1));
  const rooms = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith("|")) break;
    const row = cells(line);
    const name = names(row[roomCol])[0];
    const tier = Number(row[tierCol]);
    if (!name || !Number.isInteger(tier)) throw new Error(`${DOC}: a rooms row without a \`room\` name or a whole tier: ${line}`);
    rooms.push({ name, tier, paths: names(row[pathsCol]), mayImport: names(row[importsCol]), firebaseFunctions: /^yes/i.test(row[ffCol]) });
  }
  if (!rooms.length) throw new Error(`${DOC}: the rooms table has no rows`);
  return rooms;
}

function listSources(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...listSources(full));
    else if (/\.(ts|mts|cts)$/.test(entry)) out.push(full);
  }
  return out.sort();
}

/** Module specifiers a file imports (comments stripped first, so an example in a comment is no import). */
export function importsOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const specs = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) specs.push(match[1]);
  return specs;
}

function resolveLocal(fromFile, spec, known) {
  const base = path.resolve(path.dirname(fromFile), spec.replace(/\.js$/, ""));
  for (const candidate of [base, `${base}.ts`, `${base}.d.ts`, path.join(base, "index.ts")]) if (known.has(candidate)) return candidate;
  return undefined;
}

/** Tarjan's strongly connected components; every component of more than one file (or a self-import) is a cycle. */
function cyclesOf(graph) {
  let index = 0;
  const stack = [];
  const state = new Map();
  const cycles = [];
  const visit = (node) => {
    state.set(node, { index, low: index, onStack: true });
    index++;
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!state.has(next)) {
        visit(next);
        state.get(node).low = Math.min(state.get(node).low, state.get(next).low);
      } else if (state.get(next).onStack) {
        state.get(node).low = Math.min(state.get(node).low, state.get(next).index);
      }
    }
    if (state.get(node).low === state.get(node).index) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        state.get(member).onStack = false;
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

/** Every breach of the architecture in `root` (a folder holding docs/architecture.md and functions/src), as lines. */
export function checkArchitecture(root) {
  const problems = [];
  const rooms = parseRooms(readFileSync(path.join(root, DOC), "utf8"));
  const byName = new Map(rooms.map((room) => [room.name, room]));
  for (const room of rooms) {
    for (const target of room.mayImport) {
      const to = byName.get(target);
      if (!to) problems.push(`table: room '${room.name}' may import '${target}', which is no room`);
      else if (to.tier >= room.tier) problems.push(`table: room '${room.name}' (tier ${room.tier}) may import '${target}' (tier ${to.tier}): arrows must point to a lower tier`);
    }
  }
  const srcDir = path.join(root, SRC);
  const files = listSources(srcDir);
  const known = new Set(files);
  const rel = (file) => path.relative(srcDir, file).split(path.sep).join("/");
  // A file belongs to the room with the longest path that is the file itself or a folder holding it.
  const roomOf = (file) => {
    const name = rel(file);
    let best;
    for (const room of rooms) {
      for (const p of room.paths) {
        const folder = p.endsWith("/") ? p : undefined;
        if ((folder ? name.startsWith(folder) : name === p) && (!best || p.length > best.length)) best = { room, length: p.length };
      }
    }
    return best?.room;
  };
  const graph = new Map();
  for (const file of files) {
    const from = roomOf(file);
    if (!from) problems.push(`${rel(file)}: belongs to no room of the table in ${DOC}`);
    const edges = [];
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (spec === "firebase-functions" || spec.startsWith("firebase-functions/")) {
        if (from && !from.firebaseFunctions) problems.push(`${rel(file)}: imports '${spec}', but room '${from.name}' may not use firebase-functions`);
        continue;
      }
      if (!spec.startsWith(".")) continue;
      const target = resolveLocal(file, spec, known);
      if (!target) {
        problems.push(`${rel(file)}: imports '${spec}', which is no file of ${SRC}`);
        continue;
      }
      edges.push(target);
      const to = roomOf(target);
      if (!from || !to || from === to) continue;
      if (from.tier === to.tier) problems.push(`${rel(file)} -> ${rel(target)}: sibling rooms '${from.name}' and '${to.name}' (tier ${from.tier}) may not import each other`);
      else if (!from.mayImport.includes(to.name)) problems.push(`${rel(file)} -> ${rel(target)}: room '${from.name}' may not import room '${to.name}' (not in the table)`);
    }
    graph.set(file, edges);
  }
  for (const cycle of cyclesOf(graph)) problems.push(`cycle: ${cycle.map(rel).join(" <-> ")}`);
  return problems;
}

/** Small fixtures, one per rule, each of which must fail with the expected message; and one clean house. */
function selfTest() {
  const table = (rows) =>
    ["# Architecture", "", "| room | tier | paths | may import | firebase-functions |", "| --- | --- | --- | --- | --- |", ...rows, ""].join("\n");
  const good = [
    "| `api` | 3 | `api/` | `a`, `lib` | yes |",
    "| `a` | 2 | `a/` | `lib` | no |",
    "| `b` | 2 | `b/` | `lib` | no |",
    "| `lib` | 1 | `lib/` | | no |",
  ];
  const cleanFiles = {
    "api/x.ts": 'import { onCall } from "firebase-functions/v2/https";\nimport { a } from "../a/a";\nexport const x = [onCall, a];\n',
    "a/a.ts": '// import { b } from "../b/b"; (a comment is no import)\nimport { l } from "../lib/l";\nexport const a = l;\n',
    "b/b.ts": 'import type { L } from "../lib/l";\nexport const b: L = 1;\n',
    "lib/l.ts": "export type L = number;\nexport const l = 1;\n",
  };
  const cases = [
    { name: "a clean house", rows: good, files: {}, expect: [] },
    { name: "an import to a higher room", rows: good, files: { "lib/l.ts": 'import { a } from "../a/a";\nexport const l = a;\n' }, expect: [/room 'lib' may not import room 'a'/, /cycle: a\/a\.ts <-> lib\/l\.ts/] },
    { name: "a sibling import", rows: good, files: { "a/a.ts": 'import { b } from "../b/b";\nexport const a = b;\n' }, expect: [/sibling rooms 'a' and 'b'/] },
    { name: "a sibling arrow in the table", rows: [good[0], "| `a` | 2 | `a/` | `b`, `lib` | no |", ...good.slice(2)], files: {}, expect: [/arrows must point to a lower tier/] },
    { name: "an arrow missing from the table", rows: good, files: { "api/y.ts": 'import { b } from "../b/b";\nexport const y = b;\n' }, expect: [/room 'api' may not import room 'b'/] },
    { name: "firebase-functions in a domain room", rows: good, files: { "b/b.ts": 'import * as logger from "firebase-functions/logger";\nexport const b = logger;\n' }, expect: [/room 'b' may not use firebase-functions/] },
    { name: "a cycle inside one room", rows: good, files: { "a/c.ts": 'import { a } from "./a";\nexport const c = a;\n', "a/a.ts": 'import { c } from "./c";\nexport const a = c;\n' }, expect: [/cycle: a\/a\.ts <-> a\/c\.ts/] },
    { name: "a file in no room", rows: good, files: { "stray.ts": "export const s = 1;\n" }, expect: [/stray\.ts: belongs to no room/] },
  ];
  let failed = 0;
  for (const test of cases) {
    const root = mkdtempSync(path.join(tmpdir(), "architecture-"));
    try {
      mkdirSync(path.join(root, "docs"));
      writeFileSync(path.join(root, DOC), table(test.rows));
      for (const [file, text] of Object.entries({ ...cleanFiles, ...test.files })) {
        mkdirSync(path.dirname(path.join(root, SRC, file)), { recursive: true });
        writeFileSync(path.join(root, SRC, file), text);
      }
      const problems = checkArchitecture(root);
      const ok = test.expect.length === problems.length && test.expect.every((pattern) => problems.some((line) => pattern.test(line)));
      if (!ok) {
        failed++;
        console.error(`self-test '${test.name}': expected ${test.expect.map(String).join(", ") || "no problems"}, got:\n  ${problems.join("\n  ") || "(none)"}`);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  if (failed) {
    console.error(`architecture self-test: ${failed} of ${cases.length} cases failed`);
    process.exit(1);
  }
  console.log(`architecture self-test: ${cases.length} cases, each rule fails when broken`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes("--self-test")) selfTest();
  const rootFlag = args.indexOf("--root");
  const root = rootFlag >= 0 ? path.resolve(args[rootFlag + 1]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const problems = checkArchitecture(root);
  if (problems.length) {
    console.error(`architecture: ${problems.length} breach(es) of ${DOC}:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`architecture: ${SRC} keeps the rooms and arrows of ${DOC}`);
}
