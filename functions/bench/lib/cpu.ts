// CPU time of the two processes a measurement runs on: this one (the handler, the SDK) and the Firestore emulator.
// They share the machine's cores, so a path that spends more of this process's CPU per operation gets fewer
// operations per second out of the same emulator; in production the handler has its own instance. Reported per
// operation beside the throughput, so that a ratio to the raw write rate can be read as "server cost" or "client cost".
import { readFileSync, readdirSync } from "node:fs";

/** Milliseconds of CPU (user + system) this process has used. */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

let emulatorPid: number | null | undefined;

/**
 * The pid of the Firestore emulator serving FIRESTORE_EMULATOR_HOST's port: a Java process whose command line names
 * the Firestore emulator and `--port <port>` (other suites on a shared machine listen on other ports). Linux only
 * (/proc); null elsewhere or when not found.
 */
export function findEmulatorPid(env: NodeJS.ProcessEnv = process.env): number | null {
  if (emulatorPid !== undefined) return emulatorPid;
  emulatorPid = null;
  const port = env.FIRESTORE_EMULATOR_HOST?.split(":").at(-1);
  if (!port) return emulatorPid;
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let args: string[];
      try {
        args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      } catch {
        continue;
      }
      const portAt = args.indexOf("--port");
      if (args.some((arg) => arg.includes("cloud-firestore-emulator")) && portAt >= 0 && args[portAt + 1] === port) {
        emulatorPid = Number(entry);
        break;
      }
    }
  } catch {
    // No /proc (macOS): the emulator's CPU is not reported.
  }
  return emulatorPid;
}

/** Milliseconds of CPU the emulator process has used (utime + stime from /proc/<pid>/stat), or null. */
export function emulatorCpuMs(): number | null {
  const pid = findEmulatorPid();
  if (pid === null) return null;
  try {
    // Fields after the command name (which is in parentheses and may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
    return (Number(fields[11]) + Number(fields[12])) / ticksPerMs;
  } catch {
    return null;
  }
}

export interface CpuSpent {
  clientMs: number;
  emulatorMs: number | null;
}

/** Starts a CPU measurement; the returned function gives the CPU both processes spent since. */
export function startCpuMeasure(): () => CpuSpent {
  const client = ownCpuMs();
  const emulator = emulatorCpuMs();
  return () => {
    const emulatorNow = emulatorCpuMs();
    return { clientMs: ownCpuMs() - client, emulatorMs: emulator === null || emulatorNow === null ? null : emulatorNow - emulator };
  };
}
