import assert from "node:assert/strict";
import { adminDb } from "../../devtools/support/admin";
import { signedInClient } from "../../devtools/support/clients";
import { functionUrl } from "../../devtools/support/emulators";
import { waitFor } from "../helpers/wait";
import { doc, getDoc } from "firebase/firestore";

describe("harness smoke (through the emulators)", () => {
  it("status answers through the Functions emulator with a Firestore round-trip, and writes nothing", async () => {
    await adminDb().doc("system/statusProbe").delete();
    const response = await fetch(await functionUrl("status"));
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.service, "elateme-backend");
    assert.equal(body.environment, "emulator");
    assert.deepEqual((body.firestore as { ok: boolean }).ok, true);
    const probe = await adminDb().doc("system/statusProbe").get();
    assert.equal(probe.exists, false, "a public endpoint makes us write nothing");
  });

  it("a Firestore trigger enqueues a Cloud Task whose handler runs once", async () => {
    const ping = adminDb().doc("system/smoke/pings/ping-1");
    await ping.set({ createdAt: new Date() });
    const ran = await waitFor("the smoke task to run", async () => {
      const snap = await ping.get();
      return snap.get("taskRanAt") ? snap : undefined;
    });
    assert.ok(ran.get("triggeredAt"), "the trigger stamped the ping before enqueueing");
    assert.equal(ran.get("taskRuns"), 1);
  });

  it("clients cannot read server-only system documents", async () => {
    await adminDb().doc("system/statusProbe").set({ nonce: "x" });
    const client = await signedInClient("smoke-user");
    await assert.rejects(getDoc(doc(client.db, "system/statusProbe")), /permission/i);
  });
});
