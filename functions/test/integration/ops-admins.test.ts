import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { systemClock } from "../../src/lib/clock";
import { zodConverter } from "../../src/lib/converter";
import { AUDIT_LOG, auditEntrySchema } from "../../src/model/closing";
import type { AuditEntry } from "../../src/model/closing";
import { setAdminClaim } from "../../src/ops/admins";
import { adminAuth, adminDb } from "../../devtools/support/admin";

const run = promisify(execFile);
const FUNCTIONS_DIR = path.resolve(__dirname, "..", "..");

/** `npm run ops -- …` as ops type it, minus npm: the same script, the same argument parsing. */
function opsCli(...args: string[]) {
  return run(process.execPath, ["--import", "tsx", "devtools/ops.ts", ...args], { cwd: FUNCTIONS_DIR, env: process.env });
}

async function auditEntries(uid: string): Promise<AuditEntry[]> {
  const snap = await adminDb().collection(AUDIT_LOG).withConverter(zodConverter(auditEntrySchema)).where("target", "==", `users/${uid}`).get();
  return snap.docs.map((doc) => doc.data()).sort((a, b) => a.at.getTime() - b.at.getTime());
}

describe("ops: granting and revoking admin", function () {
  this.timeout(60_000);
  const deps = () => ({ auth: adminAuth(), db: adminDb(), clock: systemClock });

  it("grants by email, keeping the user's other claims; a repeat changes nothing; revoke removes only admin; each audited", async () => {
    const uid = `ops-admin-${Date.now()}`;
    await adminAuth().createUser({ uid, email: `${uid}@example.com` });
    await adminAuth().setCustomUserClaims(uid, { beta: true });

    assert.deepEqual(await setAdminClaim(deps(), `${uid}@example.com`, true, "operator:ana", "on-call rota"), { result: "granted", uid, email: `${uid}@example.com` });
    assert.deepEqual((await adminAuth().getUser(uid)).customClaims, { beta: true, admin: true });
    assert.equal((await setAdminClaim(deps(), uid, true, "operator:ana", "on-call rota")).result, "unchanged");
    assert.equal((await setAdminClaim(deps(), uid, false, "operator:ana", "left the rota")).result, "revoked");
    assert.deepEqual((await adminAuth().getUser(uid)).customClaims, { beta: true });

    const entries = await auditEntries(uid);
    assert.deepEqual(
      entries.map((entry) => [entry.action, entry.result, entry.actorId, entry.reason]),
      [
        ["grantAdmin", "granted", "operator:ana", "on-call rota"],
        ["grantAdmin", "unchanged", "operator:ana", "on-call rota"],
        ["revokeAdmin", "revoked", "operator:ana", "left the rota"],
      ],
    );
  });

  it("refuses an unknown user (audited, like every refusal) and a missing reason (nothing audited), changing nothing", async () => {
    const nobody = `nobody-${Date.now()}@example.com`;
    await assert.rejects(setAdminClaim(deps(), nobody, true, "operator:ana", "on-call rota"), new RegExp(`No user '${nobody}'`));
    assert.deepEqual(
      (await auditEntries(nobody)).map((entry) => [entry.action, entry.result, entry.actorId, entry.reason]),
      [["grantAdmin", "refused: not-found", "operator:ana", "on-call rota"]],
    );
    const uid = `ops-admin-noreason-${Date.now()}`;
    await adminAuth().createUser({ uid });
    await assert.rejects(setAdminClaim(deps(), uid, true, "operator:ana", " "), /reason/);
    assert.equal((await adminAuth().getUser(uid)).customClaims?.admin, undefined);
    assert.equal((await auditEntries(uid)).length, 0);
  });

  it("the command line grants against the emulators by default, and says what is wrong with a bad command", async () => {
    const uid = `ops-admin-cli-${Date.now()}`;
    await adminAuth().createUser({ uid, email: `${uid}@example.com` });
    const { stdout } = await opsCli("grant-admin", `${uid}@example.com`, "--reason", "new on-call", "--operator", "ana");
    assert.match(stdout, new RegExp(`${uid} \\(${uid}@example.com\\): admin granted`));
    assert.equal((await adminAuth().getUser(uid)).customClaims?.admin, true);
    assert.equal((await auditEntries(uid))[0]?.actorId, "operator:ana");

    await assert.rejects(opsCli("grant-admin", uid), (error: { code?: number; stderr?: string }) => error.code === 2 && /--reason is required/.test(error.stderr ?? ""));
    await assert.rejects(opsCli("make-admin", uid), (error: { code?: number; stderr?: string }) => error.code === 2 && /Unknown command 'make-admin'/.test(error.stderr ?? ""));
  });
});
