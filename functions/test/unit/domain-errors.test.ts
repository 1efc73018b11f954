// The one error type (src/lib/errors.ts) and its one mapping to HttpsError (src/api/errors.ts). Pure; no emulator.
import assert from "node:assert/strict";
import { HttpsError } from "firebase-functions/v2/https";
import { z } from "zod";
import { callable, requireAdmin, requireAuth, toHttpsError } from "../../src/api/errors";
import { DOMAIN_ERRORS, DomainError, parseInput } from "../../src/lib/errors";

const HTTPS_CODES = new Set(["invalid-argument", "unauthenticated", "permission-denied", "not-found", "already-exists", "failed-precondition", "resource-exhausted", "aborted", "unavailable"]);

describe("domain errors and their mapping", () => {
  it("every reason in the catalogue is snake_case and carries a callable code", () => {
    for (const [reason, code] of Object.entries(DOMAIN_ERRORS)) {
      assert.match(reason, /^[a-z]+(_[a-z]+)*$/, reason);
      assert.ok(HTTPS_CODES.has(code), `${reason}: ${code}`);
    }
  });

  it("a DomainError takes its code from the catalogue, and maps to HttpsError(code, message, {reason, field, ...params})", () => {
    const error = new DomainError("amount_too_small", "Field 'amount': must be at least 2000 (minor units of CZK)", { field: "amount", params: { min: 2000, currency: "CZK" } });
    assert.equal(error.code, "invalid-argument");
    const mapped = toHttpsError(error);
    assert.ok(mapped instanceof HttpsError);
    assert.equal(mapped.code, "invalid-argument");
    assert.equal(mapped.message, error.message);
    assert.deepEqual(mapped.details, { reason: "amount_too_small", field: "amount", min: 2000, currency: "CZK" });
    assert.deepEqual(toHttpsError(new DomainError("wish_not_visible", "No such wish, or you cannot see it.")).details, { reason: "wish_not_visible" });
  });

  it("parseInput refuses with invalid_input naming the first field", () => {
    assert.throws(
      () => parseInput(z.object({ wish: z.object({ title: z.string() }) }).strict(), { wish: { title: 7 } }),
      (error: unknown) => error instanceof DomainError && error.reason === "invalid_input" && error.field === "wish.title" && /^Field 'wish\.title': /.test(error.message),
    );
  });

  it("the callable wrapper answers a DomainError as its HttpsError, passes HttpsErrors, and hides anything else as internal", async () => {
    await assert.rejects(
      callable("probe", () => Promise.reject(new DomainError("wish_frozen", "This wish is on hold."))),
      (error: unknown) => error instanceof HttpsError && error.code === "failed-precondition" && (error.details as { reason: string }).reason === "wish_frozen",
    );
    await assert.rejects(
      callable("probe", () => {
        throw new DomainError("not_signed_up", "thrown before any promise");
      }),
      (error: unknown) => error instanceof HttpsError && error.code === "failed-precondition",
    );
    const own = new HttpsError("unauthenticated", "App Check");
    await assert.rejects(callable("probe", () => Promise.reject(own)), (error: unknown) => error === own);
    await assert.rejects(
      callable("probe", () => Promise.reject(new Error("Stripe said: card 4242 declined"))),
      (error: unknown) => error instanceof HttpsError && error.code === "internal" && !/Stripe|4242/.test(error.message),
    );
  });

  it("auth checks: sign_in_required without a uid, admin_only without the admin claim", () => {
    assert.throws(() => requireAuth({ auth: undefined }), (error: unknown) => error instanceof DomainError && error.reason === "sign_in_required" && error.code === "unauthenticated");
    const user = { auth: { uid: "u1", token: { admin: false } } } as unknown as Parameters<typeof requireAdmin>[0];
    assert.throws(() => requireAdmin(user), (error: unknown) => error instanceof DomainError && error.reason === "admin_only" && error.code === "permission-denied");
    const admin = { auth: { uid: "a1", token: { admin: true } } } as unknown as Parameters<typeof requireAdmin>[0];
    assert.equal(requireAdmin(admin), "a1");
  });
});
