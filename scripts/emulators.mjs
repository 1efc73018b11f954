#!/usr/bin/env node
// Runs the Firebase emulator suite with the real Google emulators, offline when possible.
//
//   node scripts/emulators.mjs start          # npm start: the suite, seeded from emulator-data/, until Ctrl-C
//   node scripts/emulators.mjs exec "<cmd>"   # npm test / npm run bench: run <cmd> inside the suite, then stop it
//   node scripts/emulators.mjs check          # only resolve the Java emulators and print what would be used
//
// firebase-tools downloads the Firestore and Pub/Sub emulators from Google on first use. Our machines cannot
// reach Google, but have Google's own emulators as Debian packages (google-cloud-cli-*-emulator) and a JDK >= 21
// beside the default JDK 17. This script finds them and hands them to firebase-tools. On a machine without the
// Debian packages it falls back to firebase-tools' own cache or download. When nothing works it stops with one
// message that says what is missing and how to install it.
//
// Environment knobs (all optional):
//   ELATEME_PORT_OFFSET   shift every emulator port by N (run two suites side by side)
//   ELATEME_NO_DOWNLOAD=1 never try firebase-tools' download (used by the set-up script's own tests)
//   ELATEME_JVM_ROOTS     ':'-separated directories holding JDKs (default /usr/lib/jvm and friends)
//   ELATEME_HOST=0.0.0.0  bind every emulator and fake to this address instead of 127.0.0.1 (opt-in: a phone on
//                         the LAN; docs/client-setup.md). Anyone on the network can then reach the suite.
//   ELATEME_DEBIAN_FIRESTORE_JAR, ELATEME_DEBIAN_PUBSUB_LAUNCHER   override lookup paths
//   ELATEME_FIREBASE_CACHE  firebase-tools' emulator cache (handed to it as FIREBASE_EMULATORS_PATH; default
//                         $FIREBASE_EMULATORS_PATH or ~/.cache/firebase/emulators)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PROJECT_ID = "demo-elateme";
const EMULATORS = "auth,firestore,functions,tasks,pubsub";
const MIN_JAVA = 21;

class SetupError extends Error {}

function fail(lines) {
  throw new SetupError(lines.join("\n"));
}

/** Major version of a `java` binary, or 0 when it does not run. */
export function javaMajor(javaBin) {
  const out = spawnSync(javaBin, ["-version"], { encoding: "utf8" });
  if (out.status !== 0) return 0;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${out.stderr}${out.stdout}`);
  if (!match) return 0;
  const major = Number.parseInt(match[1], 10);
  // Java 8 and older report "1.8.0_x".
  return major === 1 ? Number.parseInt(match[2] ?? "0", 10) : major;
}

/** The newest JDK >= 21: JAVA_HOME first, then every JDK in the system's JVM directories, then `java` on PATH. */
export function findJava(env = process.env) {
  const candidates = [];
  if (env.JAVA_HOME) candidates.push(path.join(env.JAVA_HOME, "bin", "java"));
  const roots = (env.ELATEME_JVM_ROOTS ?? "/usr/lib/jvm:/usr/java:/Library/Java/JavaVirtualMachines").split(":");
  for (const root of roots) {
    if (!root || !existsSync(root)) continue;
    for (const name of readdirSync(root).sort().reverse()) {
      for (const rel of ["bin/java", "Contents/Home/bin/java"]) {
        const bin = path.join(root, name, rel);
        if (existsSync(bin)) candidates.push(bin);
      }
    }
  }
  if (env.ELATEME_JVM_ROOTS === undefined) candidates.push("java");
  let best = null;
  for (const bin of candidates) {
    const major = javaMajor(bin);
    if (major >= MIN_JAVA && (!best || major > best.major)) best = { bin, major };
  }
  if (!best) {
    fail([
      `The Firestore and Pub/Sub emulators need Java ${MIN_JAVA} or newer, and none was found.`,
      `Looked at: ${candidates.length ? candidates.join(", ") : "(no java binaries)"}.`,
      "Install one, e.g. `apt-get install openjdk-21-jre-headless` (Debian/Ubuntu) or `brew install openjdk@21` (macOS),",
      "or point JAVA_HOME at an installed JDK 21+.",
    ]);
  }
  return best;
}

function firebaseCacheDir(env) {
  return env.ELATEME_FIREBASE_CACHE || env.FIREBASE_EMULATORS_PATH || path.join(os.homedir(), ".cache", "firebase", "emulators");
}

/**
 * The Emulator UI's server exactly where firebase-tools looks for it: `UI_EMULATOR_BINARY_PATH`, else
 * `<cache>/ui-v<the UI version this firebase-tools pins>/server/server.mjs`. Another version's folder or a lone zip does
 * not count (firebase-tools would try to download its own version, which fails offline). Null when absent.
 */
export function emulatorUiBinary(env) {
  if (env.UI_EMULATOR_BINARY_PATH) return existsSync(env.UI_EMULATOR_BINARY_PATH) ? env.UI_EMULATOR_BINARY_PATH : null;
  const info = JSON.parse(readFileSync(path.join(ROOT, "node_modules", "firebase-tools", "lib", "emulator", "downloadableEmulatorInfo.json"), "utf8"));
  const binary = path.join(firebaseCacheDir(env), info.ui.main.binaryPathRelativeToCacheDir);
  return existsSync(binary) ? binary : null;
}

function cached(env, prefix) {
  const dir = firebaseCacheDir(env);
  if (!existsSync(dir)) return null;
  const hit = readdirSync(dir).find((name) => name.startsWith(prefix));
  return hit ? path.join(dir, hit) : null;
}

function debianPath(pkg, suffix) {
  const out = spawnSync("dpkg", ["-L", pkg], { encoding: "utf8" });
  if (out.status !== 0) return null;
  return out.stdout.split("\n").find((line) => line.endsWith(suffix) && existsSync(line)) ?? null;
}

function tryDownload(env, what) {
  if (env.ELATEME_NO_DOWNLOAD === "1") return false;
  process.stderr.write(`[emulators] ${what} emulator not installed locally; trying firebase-tools' download...\n`);
  const out = spawnSync(process.execPath, [firebaseBin(), `setup:emulators:${what}`], {
    cwd: ROOT,
    env,
    encoding: "utf8",
    timeout: 180_000,
  });
  return out.status === 0;
}

/** The project's Node 22 binary when installed, else the node running this script. */
function projectNode() {
  const local = path.join(ROOT, "node_modules", ".bin", "node");
  return existsSync(local) ? local : process.execPath;
}

function firebaseBin() {
  return path.join(ROOT, "node_modules", "firebase-tools", "lib", "bin", "firebase.js");
}

/** A wrapper jar whose manifest starts the Debian jar's main class (firebase-tools runs `java -jar <path>`). */
function firestoreWrapperJar(java, debianJar) {
  const dir = path.join(ROOT, ".cache", "emulators");
  mkdirSync(dir, { recursive: true });
  const jar = path.join(dir, "cloud-firestore-emulator-wrapper.jar");
  const manifest = path.join(dir, "firestore-manifest.txt");
  const body =
    "Main-Class: com.google.cloud.datastore.emulator.firestore.CloudFirestore\n" +
    `Class-Path: ${new URL(`file://${debianJar}`).href}\n`;
  const fresh = existsSync(jar) && existsSync(manifest) && readFileSync(manifest, "utf8") === body;
  if (!fresh) {
    writeFileSync(manifest, body);
    const jarTool = path.join(path.dirname(java.bin), "jar");
    const tool = existsSync(jarTool) ? jarTool : "jar";
    const out = spawnSync(tool, ["cfm", jar, manifest], { encoding: "utf8" });
    if (out.status !== 0) {
      fail([
        `Could not build the Firestore emulator wrapper jar with \`${tool}\`: ${out.stderr.trim()}`,
        "Install a full JDK 21+ (with the `jar` tool), e.g. `apt-get install openjdk-21-jdk-headless`.",
      ]);
    }
  }
  return jar;
}

/** Environment that makes firebase-tools start the real Java emulators without downloading them. */
export function resolveEmulatorEnv(env = { ...process.env }) {
  const java = findJava(env);
  const resolved = { ...env, PATH: `${path.dirname(java.bin)}${path.delimiter}${env.PATH ?? ""}` };
  if (env.JAVA_HOME && !java.bin.startsWith(env.JAVA_HOME)) delete resolved.JAVA_HOME;
  const found = { java: `${java.bin} (Java ${java.major})` };

  if (env.FIRESTORE_EMULATOR_BINARY_PATH) {
    found.firestore = env.FIRESTORE_EMULATOR_BINARY_PATH;
  } else {
    const debianJar =
      env.ELATEME_DEBIAN_FIRESTORE_JAR ?? debianPath("google-cloud-cli-firestore-emulator", ".jar");
    if (debianJar && existsSync(debianJar)) {
      resolved.FIRESTORE_EMULATOR_BINARY_PATH = firestoreWrapperJar(java, debianJar);
      found.firestore = `${debianJar} (Debian package, via wrapper jar)`;
    } else if (cached(env, "cloud-firestore-emulator") || tryDownload(resolved, "firestore")) {
      found.firestore = "firebase-tools cache";
    } else {
      fail([
        "The Firestore emulator is not installed and could not be downloaded.",
        "Install Google's package: `apt-get install google-cloud-cli-firestore-emulator` (Debian/Ubuntu, from",
        "the Google Cloud apt repository), or run `npx firebase setup:emulators:firestore` once with internet.",
      ]);
    }
  }

  if (env.PUBSUB_EMULATOR_BINARY_PATH) {
    found.pubsub = env.PUBSUB_EMULATOR_BINARY_PATH;
  } else {
    const launcher =
      env.ELATEME_DEBIAN_PUBSUB_LAUNCHER ?? debianPath("google-cloud-cli-pubsub-emulator", "/bin/cloud-pubsub-emulator");
    if (launcher && existsSync(launcher)) {
      resolved.PUBSUB_EMULATOR_BINARY_PATH = launcher;
      found.pubsub = `${launcher} (Debian package)`;
    } else if (cached(env, "pubsub-emulator") || tryDownload(resolved, "pubsub")) {
      found.pubsub = "firebase-tools cache";
    } else {
      fail([
        "The Pub/Sub emulator is not installed and could not be downloaded.",
        "Install Google's package: `apt-get install google-cloud-cli-pubsub-emulator` (Debian/Ubuntu, from",
        "the Google Cloud apt repository), or run `npx firebase setup:emulators:pubsub` once with internet.",
      ]);
    }
  }

  // The project's own Node 22 (the production runtime, from the `node` devDependency) first on PATH, so the
  // Functions emulator and everything the suite runs use it even when this script was started by another node.
  resolved.PATH = `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${resolved.PATH}`;
  // google-gax probes the GCE metadata server; there is none here.
  resolved.METADATA_SERVER_DETECTION ??= "none";
  // The Functions emulator waits 30 s for a new function worker to load our code, then never answers the request that
  // wanted it (the callable hangs until its client gives up). On a busy 2-core machine loading takes longer: measured,
  // `npm run seed` failed twice at load 11–14 and passed with 120 s. (firebase-tools reads this variable, in seconds.)
  resolved.FUNCTIONS_DISCOVERY_TIMEOUT ??= "120";
  // firebase-tools' own cache of downloaded emulators (and the UI) is where we looked.
  resolved.FIREBASE_EMULATORS_PATH = firebaseCacheDir(env);
  return { env: resolved, found };
}

/**
 * Local fakes of the services we cannot reach offline (Stripe, Facebook Graph, FCM, Fio banka) listen on these ports.
 * The URLs are exported to the emulated functions (which honour them only inside the emulator, see
 * functions/src/config.ts) and to the test process (which starts the fakes in-process, test/setup/root-hooks.ts).
 */
export function fakeServiceEnv(env) {
  const offset = Number.parseInt(env.ELATEME_PORT_OFFSET ?? "0", 10) || 0;
  return {
    ELATEME_FAKE_STRIPE_URL: `http://127.0.0.1:${12111 + offset}`,
    ELATEME_FAKE_GRAPH_URL: `http://127.0.0.1:${12112 + offset}`,
    ELATEME_FAKE_FCM_URL: `http://127.0.0.1:${12113 + offset}`,
    ELATEME_FAKE_BTCPAY_URL: `http://127.0.0.1:${12114 + offset}`,
    ELATEME_FAKE_FIO_URL: `http://127.0.0.1:${12115 + offset}`,
  };
}

/**
 * Ports that Node's fetch (undici, used by firebase-tools to talk to the emulators) refuses to connect to: the Fetch
 * standard's "bad ports". An offset that lands an emulator on one of them fails at start-up with an obscure
 * "Failed to make request" (e.g. offset 2000 puts Firestore on 10080).
 */
const FETCH_BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111,
  113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548,
  554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566,
  6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** firebase.json with shifted ports and the Emulator UI switched on where it can be had. */
function localConfig(env, { ui }) {
  const offset = Number.parseInt(env.ELATEME_PORT_OFFSET ?? "0", 10) || 0;
  const config = JSON.parse(readFileSync(path.join(ROOT, "firebase.json"), "utf8"));
  const host = bindHost(env);
  for (const [name, emulator] of Object.entries(config.emulators)) {
    if (typeof emulator !== "object") continue;
    if (emulator.host) emulator.host = host;
    for (const key of ["port", "websocketPort"]) {
      if (!emulator[key]) continue;
      emulator[key] += offset;
      if (FETCH_BAD_PORTS.has(emulator[key]) && (name !== "ui" || ui)) {
        fail([
          `ELATEME_PORT_OFFSET=${offset} puts the ${name} emulator on port ${emulator[key]}, which Node's fetch refuses to use`,
          "(a \"bad port\" of the Fetch standard). Choose another offset: a multiple of 1000 such as 1000, 3000 or 4000.",
        ]);
      }
    }
  }
  config.emulators.ui.enabled = ui;
  return config;
}

function writeLocalConfig(env, { ui }) {
  const offset = Number.parseInt(env.ELATEME_PORT_OFFSET ?? "0", 10) || 0;
  const config = localConfig(env, { ui });
  const file = path.join(ROOT, offset ? `firebase.local.${offset}.json` : "firebase.local.json");
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** Where the emulators and fakes listen: 127.0.0.1 unless ELATEME_HOST opts in to another address (e.g. 0.0.0.0). */
export function bindHost(env) {
  const host = (env.ELATEME_HOST ?? "").trim();
  if (!host) return "127.0.0.1";
  if (!isIP(host)) fail([`ELATEME_HOST=${host} is not an IP address: use 0.0.0.0 (every interface) or one of this machine's addresses.`]);
  return host;
}

function uiAvailable(env) {
  if (emulatorUiBinary(env)) return true;
  return tryDownload(env, "ui") && emulatorUiBinary(env) !== null;
}

function run(mode, command) {
  const resolvedEnv = resolveEmulatorEnv();
  const { found } = resolvedEnv;
  const env = { ...fakeServiceEnv(resolvedEnv.env), ...resolvedEnv.env };
  if (mode === "check") {
    localConfig(env, { ui: false });
    for (const [name, where] of Object.entries(found)) process.stdout.write(`${name}: ${where}\n`);
    process.stdout.write(`ui: ${emulatorUiBinary(env) ?? "not installed"}\n`);
    process.stdout.write(`emulator cache (FIREBASE_EMULATORS_PATH): ${env.FIREBASE_EMULATORS_PATH}\n`);
    process.stdout.write(`listening on: ${bindHost(env)}\n`);
    process.stdout.write(`functions worker start timeout (FUNCTIONS_DISCOVERY_TIMEOUT): ${env.FUNCTIONS_DISCOVERY_TIMEOUT} s\n`);
    return Promise.resolve(0);
  }
  const ui = mode === "start" && uiAvailable(env);
  const config = writeLocalConfig(env, { ui });
  // The reaper keeps the Functions emulator's pool of idle worker processes in check (see the file).
  const args = ["--require", path.join(ROOT, "scripts", "functions-worker-reaper.cjs"), firebaseBin(), "--config", config, "--project", PROJECT_ID];
  if (mode === "start") {
    args.push("emulators:start", "--only", ui ? `${EMULATORS},ui` : EMULATORS, "--import", "emulator-data");
    process.stdout.write(
      `[emulators] Java emulators: firestore=${found.firestore}; pubsub=${found.pubsub}; ${found.java}\n` +
        `[emulators] Emulator UI ${ui ? "on" : "off (not installed and not downloadable here)"}\n` +
        `[emulators] fake Stripe: ${env.ELATEME_FAKE_STRIPE_URL} (payment page: /pay/<client secret>), fake Facebook Graph: ${env.ELATEME_FAKE_GRAPH_URL} (tokens fake-fb:<id>:<name>), fake FCM: ${env.ELATEME_FAKE_FCM_URL} (GET /messages?token=<token>), fake BTCPay: ${env.ELATEME_FAKE_BTCPAY_URL} (checkout: /i/<invoice id>), fake Fio banka: ${env.ELATEME_FAKE_FIO_URL} (POST /__fake/incoming)\n` +
        (bindHost(env) === "127.0.0.1" ? "" : `[emulators] listening on ${bindHost(env)}: reachable from other machines on the network\n`),
    );
  } else {
    if (!command) fail(["usage: node scripts/emulators.mjs exec \"<command>\""]);
    args.push("emulators:exec", "--only", EMULATORS, command);
  }
  // `npm start` also runs our fakes of Stripe, Facebook Graph and FCM; tests start them in-process instead.
  const fakeServices =
    mode === "start"
      ? spawn(projectNode(), [path.join(ROOT, "functions", "node_modules", "tsx", "dist", "cli.mjs"), "devtools/fake-services.ts"], {
          cwd: path.join(ROOT, "functions"),
          env,
          stdio: "inherit",
        })
      : null;
  const child = spawn(projectNode(), args, { cwd: ROOT, env, stdio: "inherit" });
  // Forward Ctrl-C / termination so firebase-tools shuts every emulator down cleanly.
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      child.kill(signal);
      fakeServices?.kill(signal);
    });
  }
  return new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      fakeServices?.kill("SIGTERM");
      resolve(code ?? (signal ? 1 : 0));
    }),
  );
}

const isMain = process.argv[1] && statSync(process.argv[1]).isFile() && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]);
if (isMain) {
  const [mode, command] = process.argv.slice(2);
  if (!["start", "exec", "check"].includes(mode ?? "")) {
    process.stderr.write("usage: node scripts/emulators.mjs start | exec \"<command>\" | check\n");
    process.exit(2);
  }
  Promise.resolve()
    .then(() => run(mode, command))
    .then(
    (code) => process.exit(code),
    (error) => {
      if (error instanceof SetupError) {
        process.stderr.write(`\n[emulators] Cannot start the emulator suite.\n${error.message}\n\n`);
        process.exit(1);
      }
      throw error;
    },
  );
}
