#!/usr/bin/env node
// Runs shell commands side by side and fails when any fails, with each one's output kept together (in the order
// given). `npm test` uses it for the static checks (typecheck and lint), which do not depend on each other, and to run
// those checks while the emulator suite runs the tests (on 2 cores the test run mostly waits on the emulators).
// With `--live`, the first command's output streams as it comes (the long test run) and the others' follow it.
import { spawn } from "node:child_process";

const live = process.argv[2] === "--live";
const commands = process.argv.slice(live ? 3 : 2);
if (commands.length === 0) {
  console.error("usage: node scripts/run-parallel.mjs [--live] '<command>' ['<command>' ...]");
  process.exit(2);
}
const runs = commands.map(
  (command, index) =>
    new Promise((resolve) => {
      if (live && index === 0) {
        const child = spawn(command, { shell: true, stdio: ["ignore", "inherit", "inherit"] });
        child.on("close", (code) => resolve({ command, code: code ?? 1, output: "" }));
        return;
      }
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
