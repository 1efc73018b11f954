#!/usr/bin/env node
// Runs shell commands side by side and fails when any fails, with each one's output kept together (in the order
// given). `npm test` uses it for the static checks (typecheck and lint), which do not depend on each other.
import { spawn } from "node:child_process";

const commands = process.argv.slice(2);
if (commands.length === 0) {
  console.error("usage: node scripts/run-parallel.mjs '<command>' ['<command>' ...]");
  process.exit(2);
}
const runs = commands.map(
  (command) =>
    new Promise((resolve) => {
      const child = spawn(command, { shell: true, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      child.on("close", (code) => resolve({ command, code: code ?? 1, output }));
    }),
);
const results = await Promise.all(runs);
for (const { command, code, output } of results) {
  process.stdout.write(`\n> ${command}${code === 0 ? "" : `  (exit code ${code})`}\n${output}`);
}
process.exit(results.some(({ code }) => code !== 0) ? 1 : 0);
