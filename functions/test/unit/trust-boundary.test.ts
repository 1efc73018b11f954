// The trust boundary's pure parts (docs/security.md): the one id schema, the rate-limit window arithmetic and its
// resource-exhausted answer, the rules' copy of the comments limit, and the App Check wrappers' replay check.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { HttpsError } from "firebase-functions/v2/https";
import type { CallableRequest } from "firebase-functions/v2/https";
import { RATE_LIMITS } from "../../src/config";
import { APP_CHECK_OPTIONS, REPLAY_PROTECTED_OPTIONS, appCallable, replayProtectedCallable, requireUnusedAppCheckToken } from "../../src/api/callable";
import { toHttpsError } from "../../src/api/errors";
import { DomainError, parseInput } from "../../src/lib/errors";
import { ID_MAX_CHARS, idSchema, longIdSchema } from "../../src/lib/ids";
import { countAction, describeWindow, rateLimitError } from "../../src/lib/rate-limit";
import { z } from "zod";
import { BAD_IDS } from "../helpers/bad-ids";

describe("trust boundary (pure parts)", () => {
  describe("the id schema", () => {
    const input = z.object({ wishId: idSchema }).strict();

    for (const [name, id, message] of BAD_IDS) {
      it(`refuses ${name} with invalid-argument naming the field`, () => {
        assert.throws(
          () => parseInput(input, { wishId: id }),
          (error: unknown) => error instanceof DomainError && error.code === "invalid-argument" && error.field === "wishId" && /^Field 'wishId': /.test(error.message) && message.test(error.message),
        );
      });
    }

    it("refuses an empty id, a non-string and ids that only look like the reserved pattern at one end", () => {
      assert.equal(idSchema.safeParse("").success, false);
      assert.equal(idSchema.safeParse(7).success, false);
      assert.equal(idSchema.safeParse("__x").success, true);
      assert.equal(idSchema.safeParse("x__").success, true);
      assert.equal(idSchema.safeParse("__\n__").success, false, "the reserved pattern spans newlines too");
    });

    it("accepts auto-ids, uids, hashed ids, dots inside an id and unicode up to 128 characters", () => {
      for (const id of ["Zq3kX8pLm2Vb9RtY1wAe", "fb:1234567890", "a.b", "...x", "Žluťoučký-kůň", "x".repeat(ID_MAX_CHARS)]) {
        assert.equal(idSchema.safeParse(id).success, true, id);
      }
      assert.equal(idSchema.safeParse("x".repeat(ID_MAX_CHARS + 1)).success, false);
    });

    it("the long form (notification ids) follows Firestore's own 1,500-byte limit, counted in UTF-8 bytes", () => {
      assert.equal(longIdSchema.safeParse("x".repeat(1500)).success, true);
      assert.equal(longIdSchema.safeParse("x".repeat(1501)).success, false);
      assert.equal(longIdSchema.safeParse("ž".repeat(750)).success, true, "750 two-byte characters = 1,500 bytes");
      assert.equal(longIdSchema.safeParse("ž".repeat(751)).success, false);
      for (const [, id] of BAD_IDS.slice(0, 4)) assert.equal(longIdSchema.safeParse(id).success, false, id);
    });
  });

  describe("rate-limit windows", () => {
    const limit = { max: 3, windowSeconds: 600 };
    const t0 = new Date("2026-11-24T10:00:00Z");
    const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

    it("counts up to the limit in one window, then answers when to retry (the window's end)", () => {
      let window = undefined as ReturnType<typeof countAction> | undefined;
      let current;
      for (let i = 1; i <= 3; i++) {
        window = countAction(current, limit, at(i), `k${i}`);
        assert.ok("next" in window);
        current = window.next;
        assert.equal(current.count, i);
        assert.deepEqual(current.windowStart, at(1));
        assert.equal(current.lastKey, `k${i}`);
      }
      const refused = countAction(current, limit, at(599), "k4");
      assert.deepEqual(refused, { retryAt: at(601) });
      const fresh = countAction(current, limit, at(601), "k5");
      assert.ok("next" in fresh);
      assert.deepEqual(fresh.next, { windowStart: at(601), count: 1, last: at(601), lastKey: "k5" });
    });

    it("a window under its limit may be continued after it ended (stricter, never looser; the rules allow the same)", () => {
      const counted = countAction({ windowStart: t0, count: 1, last: t0, lastKey: "a" }, limit, at(3600), "b");
      assert.ok("next" in counted);
      assert.equal(counted.next.count, 2);
    });

    it("says the window as people say it", () => {
      assert.equal(describeWindow(3600), "hour");
      assert.equal(describeWindow(600), "10 minutes");
      assert.equal(describeWindow(86_400), "day");
      assert.equal(describeWindow(90), "90 seconds");
    });

    it("resource-exhausted names the limit and when to retry, in the message and in details", () => {
      const error = toHttpsError(rateLimitError("wishes", at(1800), t0));
      assert.equal(error.code, "resource-exhausted");
      assert.match(error.message, /Too many new wishes: at most 10 per hour\. Try again after 2026-11-24T10:30:00\.000Z \(in about 30 minutes\)\./);
      assert.deepEqual(error.details, {
        reason: "rate_limited",
        action: "wishes",
        limit: 10,
        windowSeconds: 3600,
        retryAt: "2026-11-24T10:30:00.000Z",
        retryAfterSeconds: 1800,
      });
    });

    it("firestore.rules enforces the same comments limit as src/config.ts", () => {
      const rules = readFileSync(path.resolve(__dirname, "..", "..", "..", "firestore.rules"), "utf8");
      const max = /function commentLimit\(\) \{\s*return (\d+);/.exec(rules)?.[1];
      const window = /function commentWindow\(\) \{\s*return duration\.value\((\d+), 's'\);/.exec(rules)?.[1];
      assert.equal(Number(max), RATE_LIMITS.comments.max);
      assert.equal(Number(window), RATE_LIMITS.comments.windowSeconds);
      assert.match(rules, new RegExp(`RATE_LIMITS.comments: ${RATE_LIMITS.comments.max} per ${describeWindow(RATE_LIMITS.comments.windowSeconds)}`));
    });
  });

  describe("App Check", () => {
    const request = (app: CallableRequest["app"]) => ({ app, auth: undefined, data: {}, rawRequest: {} }) as unknown as CallableRequest;
    const app = (alreadyConsumed?: boolean) => ({ appId: "1:1:web:1", token: { app_id: "1:1:web:1" }, alreadyConsumed }) as unknown as CallableRequest["app"];

    it("every callable enforces App Check; the replay-protected ones also consume the token", () => {
      assert.deepEqual(APP_CHECK_OPTIONS, { enforceAppCheck: true });
      assert.deepEqual(REPLAY_PROTECTED_OPTIONS, { enforceAppCheck: true, consumeAppCheckToken: true });
      const source = readFileSync(path.resolve(__dirname, "..", "..", "src", "index.ts"), "utf8");
      assert.doesNotMatch(source, /\bonCall\s*\(/, "index.ts declares callables only through the App Check wrappers");
    });

    it("a replayed (already consumed) or absent token is refused before the handler runs", async () => {
      let ran = 0;
      const fn = replayProtectedCallable("probe", () => Promise.resolve(++ran));
      for (const bad of [app(true), undefined]) {
        await assert.rejects(Promise.resolve(fn.run(request(bad))), (error: unknown) => error instanceof HttpsError && error.code === "unauthenticated");
      }
      assert.equal(ran, 0);
      assert.equal(await fn.run(request(app(false))), 1);
      assert.throws(() => requireUnusedAppCheckToken({ app: app(true) }), /already used/);
    });

    it("a plain App Check callable does not consume tokens (it never looks at alreadyConsumed)", async () => {
      const fn = appCallable("probe", () => Promise.resolve("ran"));
      assert.equal(await fn.run(request(app(true))), "ran");
    });
  });
});
