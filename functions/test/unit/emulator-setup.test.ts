// The set-up script (scripts/emulators.mjs) must stop with one clear message, not a stack trace, when a JDK or an
// emulator is missing. These tests run it as `npm start`/`npm test` do, with lookups pointed at empty places.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const SCRIPT = path.resolve(__dirname, "..", "..", "..", "scripts", "emulators.mjs");
const empty = () => mkdtempSync(path.join(os.tmpdir(), "elateme-setup-"));

function runCheck(env: Record<string, string>) {
  const clean = { ...process.env };
  delete clean.FIRESTORE_EMULATOR_BINARY_PATH;
  delete clean.PUBSUB_EMULATOR_BINARY_PATH;
  delete clean.UI_EMULATOR_BINARY_PATH;
  delete clean.ELATEME_HOST;
  const result = spawnSync(process.execPath, [SCRIPT, "check"], {
    env: { ...clean, ELATEME_NO_DOWNLOAD: "1", ...env },
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("emulator set-up script", () => {
  it("names the missing JDK and how to install it", () => {
    const result = runCheck({ JAVA_HOME: "", ELATEME_JVM_ROOTS: empty() });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /need Java 21 or newer, and none was found/);
    assert.match(result.stderr, /apt-get install openjdk-21/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  });

  it("rejects a JDK older than 21 the same way", () => {
    // A stand-in `java` that reports version 17, as the machines' default JDK does.
    const home = empty();
    mkdirSync(path.join(home, "bin"));
    writeFileSync(path.join(home, "bin", "java"), '#!/bin/sh\necho \'openjdk version "17.0.15" 2025-04-15\' >&2\n', { mode: 0o755 });
    const result = runCheck({ JAVA_HOME: home, ELATEME_JVM_ROOTS: empty() });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Java 21 or newer/);
    assert.match(result.stderr, new RegExp(`Looked at: ${home}/bin/java`));
  });

  it("names the missing Firestore emulator when neither the Debian package nor a download is there", () => {
    const result = runCheck({
      ELATEME_DEBIAN_FIRESTORE_JAR: path.join(empty(), "missing.jar"),
      ELATEME_FIREBASE_CACHE: empty(),
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Firestore emulator is not installed and could not be downloaded/);
    assert.match(result.stderr, /google-cloud-cli-firestore-emulator/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it("names the missing Pub/Sub emulator", () => {
    const result = runCheck({
      ELATEME_DEBIAN_PUBSUB_LAUNCHER: path.join(empty(), "missing-launcher"),
      ELATEME_FIREBASE_CACHE: empty(),
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Pub\/Sub emulator is not installed/);
  });

  it("refuses a port offset that puts an emulator on a port Node's fetch will not use (2000: Firestore on 10080)", () => {
    const result = runCheck({ ELATEME_PORT_OFFSET: "2000" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /ELATEME_PORT_OFFSET=2000 puts the firestore emulator on port 10080/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.equal(runCheck({ ELATEME_PORT_OFFSET: "3000" }).status, 0);
  });

  it("sees the Emulator UI exactly where firebase-tools does (ui-v<its version>/server/server.mjs), and hands it the cache", () => {
    const uiPath = (JSON.parse(readFileSync(path.resolve(__dirname, "..", "..", "..", "node_modules", "firebase-tools", "lib", "emulator", "downloadableEmulatorInfo.json"), "utf8")) as {
      ui: { main: { binaryPathRelativeToCacheDir: string } };
    }).ui.main.binaryPathRelativeToCacheDir;
    const cache = empty();
    // Another version's folder and a lone zip are not an installed UI.
    mkdirSync(path.join(cache, "ui-v0.0.1", "server"), { recursive: true });
    writeFileSync(path.join(cache, "ui-v0.0.1", "server", "server.mjs"), "");
    writeFileSync(path.join(cache, uiPath.replace(/\/server\/server\.mjs$/, ".zip")), "");
    const without = runCheck({ ELATEME_FIREBASE_CACHE: cache });
    assert.equal(without.status, 0, without.stderr);
    assert.match(without.stdout, /^ui: not installed$/m);
    assert.match(without.stdout, new RegExp(`^emulator cache \\(FIREBASE_EMULATORS_PATH\\): ${cache}$`, "m"));
    mkdirSync(path.dirname(path.join(cache, uiPath)), { recursive: true });
    writeFileSync(path.join(cache, uiPath), "");
    assert.match(runCheck({ ELATEME_FIREBASE_CACHE: cache }).stdout, new RegExp(`^ui: ${path.join(cache, uiPath)}$`, "m"));
  });

  it("binds to 127.0.0.1 unless ELATEME_HOST opts in to an address; refuses a host name", () => {
    assert.match(runCheck({}).stdout, /^listening on: 127\.0\.0\.1$/m);
    assert.match(runCheck({ ELATEME_HOST: "0.0.0.0" }).stdout, /^listening on: 0\.0\.0\.0$/m);
    const bad = runCheck({ ELATEME_HOST: "my-laptop" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /ELATEME_HOST=my-laptop is not an IP address/);
  });

  it("on this machine resolves a JDK >= 21 and the Debian-packaged emulators", () => {
    const result = runCheck({});
    assert.equal(result.status, 0, result.stderr);
    const javaLine = /java: .* \(Java (\d+)\)/.exec(result.stdout);
    assert.ok(javaLine && Number(javaLine[1]) >= 21, result.stdout);
    assert.match(result.stdout, /firestore: /);
    assert.match(result.stdout, /pubsub: /);
    // A busy machine loads a function worker in over firebase-tools' default 30 s: the script gives it 120 s.
    assert.match(result.stdout, /^functions worker start timeout \(FUNCTIONS_DISCOVERY_TIMEOUT\): 120 s$/m);
  });

  it("keeps a FUNCTIONS_DISCOVERY_TIMEOUT given by the caller", () => {
    const result = runCheck({ FUNCTIONS_DISCOVERY_TIMEOUT: "300" });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /FUNCTIONS_DISCOVERY_TIMEOUT\): 300 s$/m);
  });
});
