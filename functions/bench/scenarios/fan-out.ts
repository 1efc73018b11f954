// Fan-out for an owner with many friends: the feed fan-out (issue 4) and the notification fan-out (issue 7), each
// through the module's own entry point (the function its trigger calls), in-process against the emulator, beside
// the raw batched write of the same number of documents (baseline.batched-fan-out).
import type { Firestore, WriteBatch } from "firebase-admin/firestore";
import { systemClock } from "../../src/lib/clock";
import type { DomainEvent } from "../../src/events/schema";
import { fanOutEvent } from "../../src/feed/worker";
import { handleDomainEventMessage } from "../../src/notifications/worker";
import type { PushTransport } from "../../src/notifications/push";
import type { TaskEnqueuer } from "../../src/lib/tasks";
import type { BenchContext } from "../lib/context";
import { instrumentFirestore, measureOps } from "../lib/counting";
import { timed } from "../lib/load";
import { loadScenario, singleCallSample } from "../lib/results";
import type { CheckResult, RepeatSample, ScenarioResult } from "../lib/results";
import { benchWish } from "./seed";

export const FAN_OUT_OWNER = "bench-owner";
export const friendId = (i: number) => `friend-${i}`;

async function commitInBatches(db: Firestore, writes: ((batch: WriteBatch) => void)[]): Promise<void> {
  const commits: Promise<unknown>[] = [];
  for (let start = 0; start < writes.length; start += 500) {
    const batch = db.batch();
    for (const write of writes.slice(start, start + 500)) write(batch);
    commits.push(batch.commit());
    if (commits.length >= 8) await Promise.all(commits.splice(0));
  }
  await Promise.all(commits);
}

/** The owner, `friends` friends (both sides of each friendship), each friend with a profile, settings and one device. */
export async function seedOwnerWithFriends(db: Firestore, friends: number): Promise<void> {
  const since = new Date("2026-01-01T00:00:00Z");
  const writes: ((batch: WriteBatch) => void)[] = [
    (b) => b.set(db.doc(`users/${FAN_OUT_OWNER}`), { displayName: "Bench Owner", photoUrl: null, facebookLinked: true, createdAt: since, updatedAt: since }),
  ];
  for (let i = 0; i < friends; i++) {
    const uid = friendId(i);
    writes.push(
      (b) => b.set(db.doc(`users/${FAN_OUT_OWNER}/friends/${uid}`), { friendId: uid, source: "facebook", since }),
      (b) => b.set(db.doc(`users/${uid}/friends/${FAN_OUT_OWNER}`), { friendId: FAN_OUT_OWNER, source: "facebook", since }),
      (b) => b.set(db.doc(`users/${uid}`), { displayName: `Friend ${i}`, photoUrl: null, facebookLinked: true, createdAt: since, updatedAt: since }),
      (b) =>
        b.set(db.doc(`users/${uid}/private/account`), {
          settings: { locale: i % 3 === 0 ? "cs" : "en", mutedCategories: [], showDonationsInFeed: true },
        }),
      (b) => b.set(db.doc(`users/${uid}/devices/phone`), { ...target(uid, i), appVersion: "1.0.0", lastSeenAt: since }),
      (b) => b.set(db.doc(`users/${uid}/private/push`), { devices: { phone: target(uid, i) } }),
    );
  }
  await commitInBatches(db, writes);
}

/** A friend's phone, as registerDevice stores it (device document and push target). */
const target = (uid: string, i: number) => ({ platform: i % 2 ? "ios" : "android", token: `token-${uid}`, locale: "en" });

/** An in-process FCM stand-in: accepts every message and counts them (the fake FCM's HTTP hop is not what is measured). */
function recordingTransport(): PushTransport & { sent: number } {
  const transport = {
    name: "bench-recorder",
    sent: 0,
    sendEach(messages: readonly unknown[]) {
      transport.sent += messages.length;
      return Promise.resolve(messages.map((_, i) => ({ ok: true as const, messageId: `m-${transport.sent}-${i}` })));
    },
  };
  return transport;
}

/** friend.joined and wish.created enqueue no task (only donation digests do). */
const noTasks: TaskEnqueuer = { enqueue: () => Promise.reject(new Error("the fan-out enqueues no task")) };

function asMessage(event: DomainEvent): { messageId: string; data: string } {
  return { messageId: `bench-${event.id}`, data: Buffer.from(JSON.stringify(event)).toString("base64") };
}

/** The scenario's row: medians over the repeats, the first failing check (else the first), the first repeat's counts. */
function fanOutResult(meta: Parameters<typeof loadScenario>[0], repeats: RepeatSample[], checks: CheckResult[], counts: string[]): ScenarioResult {
  const result = loadScenario(meta, repeats, checks.find((c) => !c.ok) ?? checks[0]);
  result.extra = Object.fromEntries(counts.map((key) => [key, repeats[0]?.extra?.[key] ?? Number.NaN]));
  return result;
}

/** friend.joined for an owner with N friends: every friend gets an inbox item and a push (docs/notifications.md). */
async function notificationFanOut(ctx: BenchContext): Promise<ScenarioResult> {
  const { options } = ctx;
  const n = options.friends;
  const db = ctx.freshDb("fan-out-notifications");
  const counter = instrumentFirestore(db);
  const friendIds = Array.from({ length: n }, (_, i) => friendId(i));
  const repeats: RepeatSample[] = [];
  const checks: CheckResult[] = [];
  for (let rep = 0; rep < options.fanOutRepeats; rep++) {
    const push = recordingTransport();
    const event: DomainEvent = {
      id: `friend.joined:${FAN_OUT_OWNER}:r${rep}`,
      type: "friend.joined",
      occurredAt: new Date().toISOString(),
      userId: FAN_OUT_OWNER,
      friendIds,
    };
    const { value, ops } = await measureOps(counter, async () => {
      const { value: result, ms } = await timed(() => handleDomainEventMessage({ db, clock: systemClock, push, tasks: noTasks }, asMessage(event)));
      return { result, ms };
    });
    const stored = (await ctx.db.collectionGroup("notifications").where("eventId", "==", event.id).count().get()).data().count;
    const pushed = value.result.outcome === "processed" ? Object.values(value.result.recipients).filter((o) => o === "pushed").length : 0;
    const ok = stored === n && push.sent === n && pushed === n;
    checks.push({ ok, detail: `${stored} inbox items, ${push.sent} pushes for ${n} friends` });
    repeats.push(singleCallSample(n, stored, value.ms, { writes: ops.writes, reads: ops.reads, pushes: push.sent }));
  }
  return fanOutResult(
    {
      id: "fan-out.notifications",
      group: "fan-out",
      title: `Notification fan-out (friend.joined), ${n} friends`,
      concurrency: null,
      n,
      method: "handleDomainEventMessage (src/notifications/worker.ts) in-process; pushes to an in-process recording transport",
    },
    repeats,
    checks,
    ["writes", "reads", "pushes"],
  );
}

/** wish.created by an owner with N friends, all in the audience: one feed item per friend (src/feed/worker.ts). */
async function feedFanOut(ctx: BenchContext): Promise<ScenarioResult> {
  const { options } = ctx;
  const n = options.friends;
  const db = ctx.freshDb("fan-out-feed");
  const counter = instrumentFirestore(db);
  const friendIds = Array.from({ length: n }, (_, i) => friendId(i));
  const repeats: RepeatSample[] = [];
  const checks: CheckResult[] = [];
  for (let rep = 0; rep < options.repeats; rep++) {
    const wishId = `fan-out-wish-r${rep}`;
    await ctx.db.doc(`wishes/${wishId}`).set(benchWish(FAN_OUT_OWNER, friendIds));
    const event: DomainEvent = {
      id: `wish.created:${wishId}`,
      type: "wish.created",
      occurredAt: new Date().toISOString(),
      wishId,
      ownerId: FAN_OUT_OWNER,
      organizerId: FAN_OUT_OWNER,
    };
    const { value, ops } = await measureOps(counter, () => timed(() => fanOutEvent({ db, clock: systemClock, tasks: noTasks }, event)));
    const stored = (await ctx.db.collectionGroup("feed").where("eventId", "==", event.id).count().get()).data().count;
    const ok = stored === n && value.value.delivered === n;
    checks.push({ ok, detail: `${stored} feed items stored, ${value.value.delivered} reported delivered, for ${n} friends` });
    repeats.push(singleCallSample(n, stored, value.ms, { writes: ops.writes, reads: ops.reads }));
  }
  return fanOutResult(
    {
      id: "fan-out.feed",
      group: "fan-out",
      title: `Feed fan-out (wish.created), ${n} friends`,
      concurrency: null,
      n,
      method: "fanOutEvent (src/feed/worker.ts) in-process",
    },
    repeats,
    checks,
    ["writes", "reads"],
  );
}

export async function fanOutScenarios(ctx: BenchContext): Promise<ScenarioResult[]> {
  await seedOwnerWithFriends(ctx.db, ctx.options.friends);
  return [await feedFanOut(ctx), await notificationFanOut(ctx)];
}
