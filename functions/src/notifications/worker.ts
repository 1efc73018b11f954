import { Timestamp } from "firebase-admin/firestore";
import type { DocumentReference, Firestore } from "firebase-admin/firestore";
import * as logger from "firebase-functions/logger";
import { encodeEventId } from "../events/outbox";
import { DOMAIN_EVENTS_TOPIC, domainEventSchema } from "../events/schema";
import type { DomainEvent } from "../events/schema";
import type { Clock } from "../lib/clock";
import { zodConverter } from "../lib/converter";
import { describeZodError } from "../lib/errors";
import { pickLocale, render } from "./catalog";
import type { Locale } from "./catalog";
import { DEAD_LETTERS, accountDoc, deviceSchema, devicesCollection, inboxItemSchema, notificationSettingsSchema, notificationsCollection } from "./model";
import type { InboxItem, PushState } from "./model";
import { buildPushMessage } from "./push";
import type { PushTransport } from "./push";
import { firestoreDirectory, planNotifications } from "./recipients";
import type { PlannedNotification } from "./recipients";
import { defaultRetryPolicy, sendAll } from "./sender";
import type { RetryPolicy } from "./sender";

export interface NotificationDeps {
  db: Firestore;
  clock: Clock;
  push: PushTransport;
  retry?: RetryPolicy;
  /** How long a worker owns an item's push before a redelivery may take it over (a crashed worker's lease). */
  leaseMs?: number;
}

/** One Pub/Sub message as the trigger hands it over (`data` is base64, as Pub/Sub delivers it). */
export interface IncomingMessage {
  messageId: string;
  data: string;
  attributes?: Record<string, string>;
}

export type RecipientOutcome = "pushed" | "muted" | "no-devices" | "failed" | "duplicate";

export type WorkerResult =
  | { outcome: "dead-lettered"; reason: string }
  | { outcome: "processed"; eventId: string; recipients: Record<string, RecipientOutcome>; skipped: number };

const CONSUMER = "notifications";
// Longer than the trigger's timeout (300 s, index.ts): a live worker never loses its lease to a redelivery.
const DEFAULT_LEASE_MS = 6 * 60_000;
/** Recipients delivered concurrently (each is a few reads/writes on its own documents, plus its pushes). */
const PARALLEL_RECIPIENTS = 64;
/** Account documents fetched per `getAll` round trip. */
const SETTINGS_PER_READ = 200;
const inboxConverter = zodConverter(inboxItemSchema);

/** Thrown when another delivery holds an item's lease: the trigger fails and Pub/Sub redelivers later. */
export class PushInProgressError extends Error {}

// ---- logs (no titles, bodies, names or tokens) ----
const logDeadLetter = (messageId: string, reason: string) =>
  logger.warn("notification event dead-lettered", { consumer: CONSUMER, messageId, reason: reason.slice(0, 500) });
const logProcessed = (event: DomainEvent, result: Record<string, RecipientOutcome>, skipped: number) => {
  const outcomes: Partial<Record<RecipientOutcome, number>> = {};
  for (const outcome of Object.values(result)) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  // Per-recipient detail only for small events: a fan-out to thousands of friends logs its counts.
  const detail = Object.keys(result).length <= 20 ? { recipients: result } : {};
  logger.info("notification event processed", { eventId: event.id, type: event.type, outcomes, skipped, ...detail });
};
const logStaleTokens = (uid: string, removed: number) => logger.info("stale push tokens removed", { uid, removed });
const logPushFailed = (eventId: string, uid: string, codes: string[]) =>
  logger.warn("push failed for some devices", { eventId, uid, codes: [...new Set(codes)] });

type Parsed = { ok: true; event: DomainEvent; raw: string } | { ok: false; reason: string; raw: string };

export function parseEventMessage(data: string): Parsed {
  const raw = Buffer.from(data, "base64").toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: "message data is not JSON", raw };
  }
  const parsed = domainEventSchema.safeParse(json);
  return parsed.success ? { ok: true, event: parsed.data, raw } : { ok: false, reason: `not a domain event: ${describeZodError(parsed.error)}`, raw };
}

/**
 * The notification worker: one `domain-events` message in, inbox items and pushes out. A malformed message is
 * dead-lettered and acknowledged (retrying cannot fix it). Redelivery is harmless: inbox ids are the event id, created
 * with `create()`, and a push is sent only by whoever created the item (or took over its expired lease).
 */
export async function handleDomainEventMessage(deps: NotificationDeps, message: IncomingMessage): Promise<WorkerResult> {
  const parsed = parseEventMessage(message.data);
  if (!parsed.ok) {
    await deps.db
      .collection(DEAD_LETTERS)
      .doc(`${CONSUMER}-${message.messageId}`)
      .set({
        consumer: CONSUMER,
        topic: DOMAIN_EVENTS_TOPIC,
        messageId: message.messageId,
        reason: parsed.reason,
        data: parsed.raw.slice(0, 10_000),
        attributes: message.attributes ?? {},
        receivedAt: deps.clock.now(),
      });
    logDeadLetter(message.messageId, parsed.reason);
    return { outcome: "dead-lettered", reason: parsed.reason };
  }
  const { event } = parsed;
  const { planned, skipped } = await planNotifications(event, firestoreDirectory(deps.db));
  const recipients: Record<string, RecipientOutcome> = {};
  const errors: unknown[] = [];
  const settings = await readAllSettings(deps.db, planned.map((p) => p.recipientId));
  const now = deps.clock.now();
  const drafts = planned.map((plan) => draftItem(deps, event, plan, settings.get(plan.recipientId) ?? DEFAULT_SETTINGS, now));
  await createFreshItems(deps.db, drafts);
  const settled = await settleWithLimit(drafts, PARALLEL_RECIPIENTS, (draft) => deliver(deps, event, draft));
  settled.forEach((result, index) => {
    const uid = planned[index]?.recipientId ?? "?";
    if (result.status === "fulfilled") recipients[uid] = result.value;
    else errors.push(result.reason);
  });
  logProcessed(event, recipients, skipped.length);
  // Any recipient that failed unexpectedly makes the whole message fail: Pub/Sub redelivers, and everyone already
  // notified is skipped as a duplicate.
  if (errors.length > 0) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  return { outcome: "processed", eventId: event.id, recipients, skipped: skipped.length };
}

interface RecipientSettings {
  locale: Locale;
  muted: string[];
}

const DEFAULT_SETTINGS: RecipientSettings = { locale: pickLocale(), muted: [] };

function toSettings(data: unknown): RecipientSettings {
  const parsed = notificationSettingsSchema.safeParse(data ?? {});
  const settings = parsed.success ? parsed.data.settings : undefined;
  return { locale: pickLocale(settings?.locale), muted: settings?.mutedCategories ?? [] };
}

/** Every recipient's locale and muted categories, a few hundred accounts per round trip. */
async function readAllSettings(db: Firestore, uids: string[]): Promise<Map<string, RecipientSettings>> {
  const result = new Map<string, RecipientSettings>();
  for (let start = 0; start < uids.length; start += SETTINGS_PER_READ) {
    const chunk = uids.slice(start, start + SETTINGS_PER_READ);
    const snaps = await db.getAll(...chunk.map((uid) => db.doc(accountDoc(uid))));
    snaps.forEach((snap, index) => {
      const uid = chunk[index];
      if (uid !== undefined) result.set(uid, toSettings(snap.data()));
    });
  }
  return result;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order, like Promise.allSettled. */
async function settleWithLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: "fulfilled", value: await fn(items[index] as T) };
      } catch (reason) {
        results[index] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function pushState(state: PushState["state"], extra: Partial<PushState> = {}): PushState {
  return { state, leaseUntil: null, attempts: 0, devices: 0, delivered: 0, removedTokens: 0, lastError: null, finishedAt: null, ...extra };
}

/** One recipient's inbox item, ready to create; `created` once it is known to be newly written by this worker. */
interface Draft {
  plan: PlannedNotification;
  settings: RecipientSettings;
  muted: boolean;
  ref: DocumentReference<InboxItem>;
  item: InboxItem;
  now: Date;
  leaseUntil: Date;
  created: boolean;
}

function draftItem(deps: NotificationDeps, event: DomainEvent, plan: PlannedNotification, settings: RecipientSettings, now: Date): Draft {
  const muted = settings.muted.includes(plan.category);
  const rendered = render(plan.messageKey, plan.args, settings.locale);
  const leaseUntil = new Date(now.getTime() + (deps.leaseMs ?? DEFAULT_LEASE_MS));
  const ref = deps.db.collection(notificationsCollection(plan.recipientId)).doc(encodeEventId(event.id)).withConverter(inboxConverter);
  const item: InboxItem = {
    type: event.type,
    category: plan.category,
    eventId: event.id,
    titleKey: rendered.titleKey,
    bodyKey: rendered.bodyKey,
    args: rendered.args,
    title: rendered.title,
    body: rendered.body,
    locale: rendered.locale,
    data: plan.data,
    read: false,
    createdAt: now,
    push: muted ? pushState("muted", { finishedAt: now }) : pushState("sending", { leaseUntil, attempts: 1 }),
  };
  return { plan, settings, muted, ref, item, now, leaseUntil, created: false };
}

const ALREADY_EXISTS = 6;
const CREATES_PER_BATCH = 500;

/**
 * The common case (a first delivery) in a few round trips: each chunk of items is created in one batch of
 * `create()`s. If any item of a chunk already exists (a redelivery), the whole batch is refused atomically and its
 * items take the one-by-one path in `deliver`, which sorts out which are new.
 */
async function createFreshItems(db: Firestore, drafts: Draft[]): Promise<void> {
  for (let start = 0; start < drafts.length; start += CREATES_PER_BATCH) {
    const chunk = drafts.slice(start, start + CREATES_PER_BATCH);
    const batch = db.batch();
    for (const draft of chunk) batch.create(draft.ref, draft.item);
    try {
      await batch.commit();
      for (const draft of chunk) draft.created = true;
    } catch (error) {
      if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
    }
  }
}

async function deliver(deps: NotificationDeps, event: DomainEvent, draft: Draft): Promise<RecipientOutcome> {
  const { plan, settings, muted, ref, now, leaseUntil } = draft;
  if (!draft.created) {
    try {
      await ref.create(draft.item);
    } catch (error) {
      if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
      if (muted || !(await claimUnfinishedPush(deps.db, ref, now, leaseUntil))) return "duplicate";
    }
  }
  if (muted) return "muted";
  return pushToDevices(deps, event, plan, settings, ref);
}

/**
 * A redelivered event finds the inbox item already there. It pushes only if the earlier attempt never finished: the
 * item is still `sending` and its lease has expired (its worker crashed). Otherwise it is a duplicate.
 */
async function claimUnfinishedPush(db: Firestore, ref: DocumentReference<InboxItem>, now: Date, leaseUntil: Date): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref.withConverter(null));
    const state: unknown = snap.get("push.state");
    const lease: unknown = snap.get("push.leaseUntil");
    const leaseActive = lease instanceof Timestamp && lease.toMillis() > now.getTime();
    if (state === "sending" && leaseActive) throw new PushInProgressError(`push of ${ref.path} is in progress elsewhere`);
    if (state !== "sending") return false;
    const attempts: unknown = snap.get("push.attempts");
    tx.update(ref.withConverter(null), {
      "push.state": "sending",
      "push.leaseUntil": leaseUntil,
      "push.attempts": (typeof attempts === "number" ? attempts : 0) + 1,
    });
    return true;
  });
}

async function pushToDevices(
  deps: NotificationDeps,
  event: DomainEvent,
  plan: PlannedNotification,
  settings: RecipientSettings,
  ref: DocumentReference<InboxItem>,
): Promise<RecipientOutcome> {
  const { db, clock } = deps;
  const uid = plan.recipientId;
  // Devices and the unread count in parallel (the count is one read even when there turn out to be no devices).
  const [deviceSnaps, unread] = await Promise.all([
    db.collection(devicesCollection(uid)).get(),
    db.collection(notificationsCollection(uid)).where("read", "==", false).count().get(),
  ]);
  const devices = deviceSnaps.docs.flatMap((doc) => {
    const parsed = deviceSchema.safeParse(doc.data());
    return parsed.success ? [{ doc, device: parsed.data }] : [];
  });
  const finish = (state: PushState["state"], extra: Record<string, unknown>) =>
    ref.withConverter(null).update({ "push.state": state, "push.leaseUntil": null, "push.finishedAt": clock.now(), ...extra });
  if (devices.length === 0) {
    await finish("no-devices", { "push.devices": 0 });
    return "no-devices";
  }

  const seen = new Set<string>();
  const messages = devices
    .filter(({ device }) => !seen.has(device.token) && Boolean(seen.add(device.token)))
    .map(({ device }) =>
      buildPushMessage(device.token, {
        notificationId: ref.id,
        type: event.type,
        category: plan.category,
        rendered: render(plan.messageKey, plan.args, pickLocale(device.locale, settings.locale)),
        data: plan.data,
        threadId: plan.threadId,
        collapseKey: plan.collapseKey,
        badge: unread.data().count,
      }),
    );

  const report = await sendAll(deps.push, messages, deps.retry ?? defaultRetryPolicy);

  // Dead tokens: delete their device documents, unless the device re-registered meanwhile (update-time precondition).
  const stale = new Set(report.staleTokens);
  const removals = await Promise.allSettled(
    devices.filter(({ device }) => stale.has(device.token)).map(({ doc }) => doc.ref.delete({ lastUpdateTime: doc.updateTime })),
  );
  const removed = removals.filter((r) => r.status === "fulfilled").length;
  if (removed > 0) logStaleTokens(uid, removed);
  if (report.failed.length > 0) logPushFailed(event.id, uid, report.failed.map((f) => f.code));

  // "sent" if any device got it; "failed" if none did and some failed for good; "no-devices" if every token was dead.
  const state = report.delivered > 0 ? "sent" : report.failed.length > 0 ? "failed" : "no-devices";
  await finish(state, {
    "push.devices": messages.length,
    "push.delivered": report.delivered,
    "push.removedTokens": removed,
    "push.lastError": report.failed[0]?.code ?? null,
  });
  return state === "sent" ? "pushed" : state;
}
