import { FieldValue, Timestamp } from "firebase-admin/firestore";
import type { BulkWriter, DocumentReference, Firestore, WriteBatch } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { encodeEventId } from "../events/outbox";
import type { DomainEvent } from "../events/schema";
import type { Clock } from "../lib/clock";
import { zodConverter } from "../lib/converter";
import { pickLocale, render } from "./catalog";
import type { Locale } from "./catalog";
import { pushTargetsDoc, pushTargetsSchema } from "../model/social";
import type { PushTarget } from "../model/social";
import { removeStaleDevice } from "../store/social";
import { accountDoc, inboxCounterDoc, inboxCounterSchema, inboxItemSchema, notificationSettingsSchema, notificationsCollection } from "./model";
import type { InboxItem, PushState } from "./model";
import { buildPushMessage } from "./push";
import type { PushTransport } from "./push";
import { firestoreDirectory, planNotifications } from "./recipients";
import type { PlannedNotification } from "./recipients";
import { defaultRetryPolicy, sendAll } from "./sender";
import type { RetryPolicy } from "./sender";
import { isFirestoreError } from "../lib/firestore-errors";
import { settleWithLimit } from "../lib/pool";
import { receiveDomainEvent } from "../events/consume";
import type { IncomingMessage } from "../events/consume";
export type { IncomingMessage };

export interface NotificationDeps {
  db: Firestore;
  clock: Clock;
  push: PushTransport;
  retry?: RetryPolicy;
  /** How long a worker owns an item's push before a redelivery may take it over (a crashed worker's lease). */
  leaseMs?: number;
}

/** One Pub/Sub message as the trigger hands it over (`data` is base64, as Pub/Sub delivers it). */
export type RecipientOutcome = "pushed" | "muted" | "no-devices" | "failed" | "duplicate";

export type WorkerResult =
  | { outcome: "dead-lettered"; reason: string }
  | { outcome: "processed"; eventId: string; recipients: Record<string, RecipientOutcome>; skipped: number };

const CONSUMER = "notifications";
// Longer than the trigger's timeout (300 s, index.ts): a live worker never loses its lease to a redelivery.
const DEFAULT_LEASE_MS = 6 * 60_000;
/** Recipients delivered concurrently (each is a few reads/writes on its own documents, plus its pushes). */
const PARALLEL_RECIPIENTS = 64;
/** Recipients whose account, inbox-counter and push-target documents are fetched per `getAll` round trip. */
const RECIPIENTS_PER_READ = 100;
const inboxConverter = zodConverter(inboxItemSchema);

/** Thrown when another delivery holds an item's lease: the trigger fails and Pub/Sub redelivers later. */
export class PushInProgressError extends Error {}

// ---- logs (no titles, bodies, names or tokens) ----
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

/**
 * The notification worker: one `domain-events` message in, inbox items and pushes out. A malformed message is
 * dead-lettered and acknowledged (retrying cannot fix it). Redelivery is harmless: inbox ids are the event id, created
 * with `create()`, and a push is sent only by whoever created the item (or took over its expired lease).
 */
export async function handleDomainEventMessage(deps: NotificationDeps, message: IncomingMessage): Promise<WorkerResult> {
  const parsed = await receiveDomainEvent({ db: deps.db, now: deps.clock.now() }, CONSUMER, message);
  if (!parsed.ok) return { outcome: "dead-lettered", reason: parsed.reason };
  const { event } = parsed;
  const { planned, skipped } = await planNotifications(event, firestoreDirectory(deps.db));
  const uids = planned.map((p) => p.recipientId);
  // Everything about the recipients (settings, unread count, devices) by getAll, 100 recipients per round trip: never
  // a query per recipient.
  const states = await readRecipientStates(deps.db, uids);
  const now = deps.clock.now();
  const drafts = planned.map((plan) => draftItem(deps, event, plan, states.get(plan.recipientId) ?? DEFAULT_STATE, now));
  await createFreshItems(deps.db, drafts);
  // Finishing writes (push state after the push) go through one BulkWriter: batched, not one round trip each.
  const finishes = deps.db.bulkWriter({ throttling: false });
  const settled = await settleWithLimit(drafts, PARALLEL_RECIPIENTS, (draft) => deliver(deps, event, draft, finishes));
  await finishes.close();
  const finished = await Promise.allSettled(settled.map((result) => (result.status === "fulfilled" ? (result.value.finished ?? Promise.resolve()) : Promise.resolve())));
  const recipients: Record<string, RecipientOutcome> = {};
  const errors: unknown[] = [];
  settled.forEach((result, index) => {
    const uid = planned[index]?.recipientId ?? "?";
    const write = finished[index];
    if (result.status === "rejected") errors.push(result.reason);
    else if (write?.status === "rejected") errors.push(write.reason);
    else recipients[uid] = result.value.outcome;
  });
  logProcessed(event, recipients, skipped.length);
  // Any recipient that failed unexpectedly makes the whole message fail: Pub/Sub redelivers, and everyone already
  // notified is skipped as a duplicate.
  if (errors.length > 0) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  return { outcome: "processed", eventId: event.id, recipients, skipped: skipped.length };
}

/** A device to push to: its id under `users/{uid}/devices` and its entry in `users/{uid}/private/push`. */
interface Target {
  deviceId: string;
  target: PushTarget;
}

/** What the worker knows of a recipient before delivering: locale, muted categories, unread count, devices. */
interface RecipientState {
  locale: Locale;
  muted: string[];
  /** The inbox's unread count before this event's item (users/{uid}/private/inbox). */
  unread: number;
  targets: Target[];
}

const DEFAULT_STATE: RecipientState = { locale: pickLocale(), muted: [], unread: 0, targets: [] };

function toState(account: unknown, counter: unknown, pushTargets: unknown): RecipientState {
  const parsed = notificationSettingsSchema.safeParse(account ?? {});
  const settings = parsed.success ? parsed.data.settings : undefined;
  const unread = inboxCounterSchema.safeParse(counter ?? {});
  const targets = pushTargetsSchema.safeParse(pushTargets ?? {});
  return {
    locale: pickLocale(settings?.locale),
    muted: settings?.mutedCategories ?? [],
    unread: unread.success ? Math.max(0, unread.data.unread) : 0,
    targets: targets.success ? Object.entries(targets.data.devices).map(([deviceId, target]) => ({ deviceId, target })) : [],
  };
}

/** Every recipient's settings, unread count and push targets: three documents each, by `getAll`. */
async function readRecipientStates(db: Firestore, uids: string[]): Promise<Map<string, RecipientState>> {
  const result = new Map<string, RecipientState>();
  for (let start = 0; start < uids.length; start += RECIPIENTS_PER_READ) {
    const chunk = uids.slice(start, start + RECIPIENTS_PER_READ);
    const snaps = await db.getAll(...chunk.flatMap((uid) => [db.doc(accountDoc(uid)), db.doc(inboxCounterDoc(uid)), db.doc(pushTargetsDoc(uid))]));
    chunk.forEach((uid, index) => result.set(uid, toState(snaps[3 * index]?.data(), snaps[3 * index + 1]?.data(), snaps[3 * index + 2]?.data())));
  }
  return result;
}

function pushState(state: PushState["state"], extra: Partial<PushState> = {}): PushState {
  return { state, leaseUntil: null, attempts: 0, devices: 0, delivered: 0, removedTokens: 0, lastError: null, finishedAt: null, ...extra };
}

/** One recipient's inbox item, ready to create; `created` once it is known to be newly written by this worker. */
interface Draft {
  plan: PlannedNotification;
  state: RecipientState;
  /** Nothing to push (a muted category, or no devices): the item is created already finished. */
  final: boolean;
  ref: DocumentReference<InboxItem>;
  counterRef: DocumentReference;
  item: InboxItem;
  now: Date;
  leaseUntil: Date;
  created: boolean;
}

function draftItem(deps: NotificationDeps, event: DomainEvent, plan: PlannedNotification, state: RecipientState, now: Date): Draft {
  const muted = state.muted.includes(plan.category);
  const rendered = render(plan.messageKey, plan.args, state.locale);
  const leaseUntil = new Date(now.getTime() + (deps.leaseMs ?? DEFAULT_LEASE_MS));
  const ref = deps.db.collection(notificationsCollection(plan.recipientId)).doc(encodeEventId(event.id)).withConverter(inboxConverter);
  const push = muted
    ? pushState("muted", { finishedAt: now })
    : state.targets.length === 0
      ? pushState("no-devices", { finishedAt: now })
      : pushState("sending", { leaseUntil, attempts: 1 });
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
    push,
  };
  const counterRef = deps.db.doc(inboxCounterDoc(plan.recipientId));
  return { plan, state, final: push.state !== "sending", ref, counterRef, item, now, leaseUntil, created: false };
}

/** Two writes per item (the item and its owner's unread count); a batch holds at most 500. */
const ITEMS_PER_BATCH = 250;

/** Adds the creation of a draft's item, and the matching rise of its owner's unread count, to a batch. */
function addCreation(batch: WriteBatch, draft: Draft): void {
  batch.create(draft.ref, draft.item);
  batch.set(draft.counterRef, { unread: FieldValue.increment(1) }, { merge: true });
}

/**
 * The common case (a first delivery) in a few round trips: each chunk of items is created in one batch of
 * `create()`s. If any item of a chunk already exists (a redelivery), the whole batch is refused atomically and its
 * items take the one-by-one path in `deliver`, which sorts out which are new.
 */
async function createFreshItems(db: Firestore, drafts: Draft[]): Promise<void> {
  for (let start = 0; start < drafts.length; start += ITEMS_PER_BATCH) {
    const chunk = drafts.slice(start, start + ITEMS_PER_BATCH);
    const batch = db.batch();
    for (const draft of chunk) addCreation(batch, draft);
    try {
      await batch.commit();
      for (const draft of chunk) draft.created = true;
    } catch (error) {
      if (!isFirestoreError(error, "already-exists")) throw error;
    }
  }
}

/** A recipient's outcome, and the write that records its push's end (settled once the BulkWriter flushes). */
interface Delivery {
  outcome: RecipientOutcome;
  finished?: Promise<unknown>;
}

async function deliver(deps: NotificationDeps, event: DomainEvent, draft: Draft, finishes: BulkWriter): Promise<Delivery> {
  const { now, leaseUntil, ref } = draft;
  if (!draft.created) {
    try {
      const batch = deps.db.batch();
      addCreation(batch, draft);
      await batch.commit();
      draft.created = true;
    } catch (error) {
      if (!isFirestoreError(error, "already-exists")) throw error;
      if (draft.final || !(await claimUnfinishedPush(deps.db, ref, now, leaseUntil))) return { outcome: "duplicate" };
    }
  }
  if (draft.final) return { outcome: draft.item.push.state === "muted" ? "muted" : "no-devices" };
  return pushToDevices(deps, event, draft, finishes);
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

async function pushToDevices(deps: NotificationDeps, event: DomainEvent, draft: Draft, finishes: BulkWriter): Promise<Delivery> {
  const { plan, state, ref } = draft;
  const uid = plan.recipientId;
  const finish = (finalState: PushState["state"], extra: Record<string, unknown>) => {
    const write = finishes.update(ref.withConverter(null), { "push.state": finalState, "push.leaseUntil": null, "push.finishedAt": deps.clock.now(), ...extra });
    write.catch(() => undefined); // handled: the worker collects every write's outcome after closing the writer
    return write;
  };
  // The badge counts this item once it is in the inbox: created now, or (a redelivery) already counted before.
  const badge = state.unread + (draft.created ? 1 : 0);

  const seen = new Set<string>();
  const messages = state.targets
    .filter(({ target }) => !seen.has(target.token) && Boolean(seen.add(target.token)))
    .map(({ target }) =>
      buildPushMessage(target.token, {
        notificationId: ref.id,
        type: event.type,
        category: plan.category,
        rendered: render(plan.messageKey, plan.args, pickLocale(target.locale, state.locale)),
        data: plan.data,
        threadId: plan.threadId,
        collapseKey: plan.collapseKey,
        badge,
      }),
    );

  const report = await sendAll(deps.push, messages, deps.retry ?? defaultRetryPolicy);

  // Dead tokens: their devices go, unless re-registered with another token meanwhile.
  const stale = new Set(report.staleTokens);
  const removals = await Promise.allSettled(
    state.targets.filter(({ target }) => stale.has(target.token)).map(({ deviceId, target }) => removeStaleDevice(deps.db, uid, deviceId, target.token)),
  );
  const removed = removals.filter((r) => r.status === "fulfilled" && r.value).length;
  if (removed > 0) logStaleTokens(uid, removed);
  if (report.failed.length > 0) logPushFailed(event.id, uid, report.failed.map((f) => f.code));

  // "sent" if any device got it; "failed" if none did and some failed for good; "no-devices" if every token was dead.
  const outcome = report.delivered > 0 ? "sent" : report.failed.length > 0 ? "failed" : "no-devices";
  const finished = finish(outcome, {
    "push.devices": messages.length,
    "push.delivered": report.delivered,
    "push.removedTokens": removed,
    "push.lastError": report.failed[0]?.code ?? null,
  });
  return { outcome: outcome === "sent" ? "pushed" : outcome, finished };
}
