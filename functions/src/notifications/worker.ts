import { FieldValue, Timestamp } from "firebase-admin/firestore";
import type { DocumentReference, Firestore, WriteBatch } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { encodeEventId } from "../events/outbox";
import type { DomainEvent } from "../events/schema";
import type { Clock } from "../lib/clock";
import { zodConverter } from "../lib/converter";
import { BATCH_LIMIT, chunk, settleWithLimit } from "../lib/pool";
import type { TaskEnqueuer } from "../lib/tasks";
import { render } from "./catalog";
import { DEFAULT_STATE, accountsGone, documentsExist, inboxItem, pushAll, pushState, readRecipientStates } from "./delivery";
import type { PushFinish, PushRequest, RecipientState } from "./delivery";
import { recordDonationForDigest } from "./digest";
import { NOTIFICATION_RUNS, inboxCounterDoc, inboxItemSchema, notificationsCollection } from "./model";
import type { InboxItem } from "./model";
import type { PushTransport } from "./push";
import { firestoreDirectory, planNotifications } from "./recipients";
import type { PlannedNotification } from "./recipients";
import type { RetryPolicy } from "./sender";
import { isFirestoreError } from "../lib/firestore-errors";
import { receiveDomainEvent } from "../events/consume";
import type { IncomingMessage } from "../events/consume";
export type { IncomingMessage };

export interface NotificationDeps {
  db: Firestore;
  clock: Clock;
  push: PushTransport;
  /** Cloud Tasks: the donation digests' fold tasks (digest.ts). */
  tasks: TaskEnqueuer;
  retry?: RetryPolicy;
  /** How long a delivery owns an event's run before a redelivery may take it over (a crashed worker's lease). */
  leaseMs?: number;
}

/**
 * `digested`: a donation recorded for its wish's digest, which a fold task turns into the inbox item and push.
 * `no-account`: the recipient's account is gone (`users/{uid}/private/account` does not exist, deleteAccount removed
 * it): nothing is written under `users/{uid}` and nothing is pushed.
 */
export type RecipientOutcome = "pushed" | "muted" | "no-devices" | "failed" | "duplicate" | "digested" | "no-account";

export type WorkerResult =
  | { outcome: "dead-lettered"; reason: string }
  | { outcome: "processed"; eventId: string; recipients: Record<string, RecipientOutcome>; skipped: number };

const CONSUMER = "notifications";
// Longer than the trigger's timeout (300 s, index.ts): a live worker never loses its lease to a redelivery.
const DEFAULT_LEASE_MS = 6 * 60_000;
/** Two writes per item (the item and its owner's unread count) in a batch of at most 500. */
const ITEMS_PER_BATCH = BATCH_LIMIT / 2;
/** Groups of recipients delivered at once (a 5,000-friend fan-out: all 20 groups in parallel). */
const PARALLEL_GROUPS = 20;
const inboxConverter = zodConverter(inboxItemSchema);

/** Thrown when another delivery holds the event's run lease: the trigger fails and Pub/Sub redelivers later. */
export class PushInProgressError extends Error {}

const logProcessed = (event: DomainEvent, result: Record<string, RecipientOutcome>, skipped: number) => {
  const outcomes: Partial<Record<RecipientOutcome, number>> = {};
  for (const outcome of Object.values(result)) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  // Per-recipient detail only for small events: a fan-out to thousands of friends logs its counts.
  const detail = Object.keys(result).length <= 20 ? { recipients: result } : {};
  logger.info("notification event processed", { eventId: event.id, type: event.type, outcomes, skipped, ...detail });
};

/**
 * The notification worker: one `domain-events` message in, inbox items and pushes out (docs/notifications.md,
 * "Pipeline"). A malformed message is dead-lettered and acknowledged. A `donation.received` goes into its wish's
 * digest (digest.ts). Any other event is delivered under a run lease (`notificationRuns/{eventDocId}`, created once):
 * pushes first, then each recipient's inbox item, created with its final push state and with the rise of the unread
 * count, in parallel batches. A redelivery finds the run: recipients whose item exists are duplicates; the others
 * are delivered only once the earlier run's lease has expired (it crashed).
 */
export async function handleDomainEventMessage(deps: NotificationDeps, message: IncomingMessage): Promise<WorkerResult> {
  const parsed = await receiveDomainEvent({ db: deps.db, now: deps.clock.now() }, CONSUMER, message);
  if (!parsed.ok) return { outcome: "dead-lettered", reason: parsed.reason };
  const { event } = parsed;
  const { planned, skipped } = await planNotifications(event, firestoreDirectory(deps.db));
  const recipients: Record<string, RecipientOutcome> =
    event.type === "donation.received" ? await recordDonationForDigest(deps, event, planned) : await deliverEvent(deps, event, planned);
  logProcessed(event, recipients, skipped.length);
  return { outcome: "processed", eventId: event.id, recipients, skipped: skipped.length };
}

const itemRef = (db: Firestore, uid: string, event: DomainEvent) =>
  db.collection(notificationsCollection(uid)).doc(encodeEventId(event.id)).withConverter(inboxConverter);

async function deliverEvent(deps: NotificationDeps, event: DomainEvent, planned: PlannedNotification[]): Promise<Record<string, RecipientOutcome>> {
  const recipients: Record<string, RecipientOutcome> = {};
  if (planned.length === 0) return recipients;
  const run = deps.db.collection(NOTIFICATION_RUNS).doc(encodeEventId(event.id));
  const { done, gone } = await claimRun(deps, run, event, planned);
  for (const uid of done) recipients[uid] = "duplicate";
  for (const uid of gone) recipients[uid] = "no-account";
  const pending = planned.filter((plan) => !done.has(plan.recipientId) && !gone.has(plan.recipientId));
  if (pending.length === 0) return recipients;
  try {
    Object.assign(recipients, await deliver(deps, event, pending));
  } catch (error) {
    // Let the redelivery take over at once instead of waiting out the lease; items already written stay duplicates.
    await run.update({ leaseUntil: deps.clock.now() }).catch(() => undefined);
    throw error;
  }
  return recipients;
}

/**
 * Claims the event's run, or, when it exists (a redelivery), returns the recipients that already have their item
 * (`done`) and, among the others, those whose account is gone (`gone`: an earlier delivery skipped them, and so does
 * this one). If some are neither, the earlier run is still going (its lease is live: PushInProgressError, Pub/Sub
 * retries later) or died (the lease expired: this delivery takes it over in a transaction and delivers to the rest).
 */
async function claimRun(
  deps: NotificationDeps,
  run: DocumentReference,
  event: DomainEvent,
  planned: PlannedNotification[],
): Promise<{ done: Set<string>; gone: Set<string> }> {
  const now = deps.clock.now();
  const leaseUntil = new Date(now.getTime() + (deps.leaseMs ?? DEFAULT_LEASE_MS));
  const done = new Set<string>();
  const gone = new Set<string>();
  try {
    await run.create({ eventId: event.id, type: event.type, recipients: planned.length, attempts: 1, startedAt: now, leaseUntil });
    return { done, gone };
  } catch (error) {
    if (!isFirestoreError(error, "already-exists")) throw error;
  }
  const uids = planned.map((plan) => plan.recipientId);
  const items = await documentsExist(deps.db, uids.map((uid) => itemRef(deps.db, uid, event)));
  uids.forEach((uid, index) => {
    if (items[index]) done.add(uid);
  });
  // Skipped recipients leave no trace on the run: their account is read again (only for those without an item).
  for (const uid of await accountsGone(deps.db, uids.filter((uid) => !done.has(uid)))) gone.add(uid);
  if (done.size + gone.size === planned.length) return { done, gone };
  await deps.db.runTransaction(async (tx) => {
    const snap = await tx.get(run);
    const lease: unknown = snap.get("leaseUntil");
    if (lease instanceof Timestamp && lease.toMillis() > now.getTime()) throw new PushInProgressError(`notifications of ${event.id} are in progress elsewhere`);
    tx.update(run, { leaseUntil, attempts: FieldValue.increment(1) });
  });
  return { done, gone };
}

/**
 * Delivers in groups of 250 recipients, up to PARALLEL_GROUPS groups at once, each a pipeline of its own: one `getAll`
 * of its recipients' states, one multicast of their pushes, one batch creating their items (so reads, pushes and
 * writes of different groups overlap). Every group runs to its end; then the first failure, if any, is thrown.
 */
async function deliver(deps: NotificationDeps, event: DomainEvent, pending: PlannedNotification[]): Promise<Record<string, RecipientOutcome>> {
  const settled = await settleWithLimit(chunk(pending, ITEMS_PER_BATCH), PARALLEL_GROUPS, (group) => deliverGroup(deps, event, group));
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  return Object.assign({}, ...settled.map((result) => (result.status === "fulfilled" ? result.value : {}))) as Record<string, RecipientOutcome>;
}

/**
 * One group: read the recipients' states, push to those who want pushes, then create every item already final. A
 * recipient whose account is gone (deleteAccount ran, or is running) gets nothing. One whose account is deleted after
 * this read may still get an item; deleteAccount's later sweep removes it (docs/social.md "Account deletion").
 */
async function deliverGroup(deps: NotificationDeps, event: DomainEvent, group: PlannedNotification[]): Promise<Record<string, RecipientOutcome>> {
  const states = await readRecipientStates(
    deps.db,
    group.map((plan) => plan.recipientId),
  );
  const stateOf = (plan: PlannedNotification): RecipientState => states.get(plan.recipientId) ?? DEFAULT_STATE;
  const recipients: Record<string, RecipientOutcome> = {};
  for (const plan of group) if (!stateOf(plan).hasAccount) recipients[plan.recipientId] = "no-account";
  const live = group.filter((plan) => stateOf(plan).hasAccount);
  const toPush = live.filter((plan) => !stateOf(plan).muted.includes(plan.category) && stateOf(plan).targets.length > 0);
  const notificationId = encodeEventId(event.id);
  const requests = toPush.map(
    (plan): PushRequest => ({
      uid: plan.recipientId,
      state: stateOf(plan),
      notificationId,
      type: event.type,
      category: plan.category,
      messageKey: plan.messageKey,
      args: plan.args,
      data: plan.data,
      threadId: plan.threadId,
      collapseKey: plan.collapseKey,
      badge: stateOf(plan).unread + 1,
    }),
  );
  const finishes = await pushAll(deps, requests, { eventId: event.id });
  const finishOf = new Map<string, PushFinish>(toPush.map((plan, index) => [plan.recipientId, finishes[index] as PushFinish]));

  const now = deps.clock.now();
  const items = live.map((plan) => {
    const state = stateOf(plan);
    const finish = finishOf.get(plan.recipientId);
    const push = finish
      ? pushState(finish.state, { attempts: 1, devices: finish.devices, delivered: finish.delivered, removedTokens: finish.removedTokens, lastError: finish.lastError, finishedAt: now })
      : pushState(state.muted.includes(plan.category) ? "muted" : "no-devices", { finishedAt: now });
    const item = inboxItem({ type: event.type, category: plan.category, eventId: event.id, data: plan.data, createdAt: now, push }, render(plan.messageKey, plan.args, state.locale));
    return { uid: plan.recipientId, item };
  });
  const created = await createItems(deps.db, event, items);
  for (const { uid, item } of items) {
    const state = item.push.state;
    recipients[uid] = !created.has(uid) ? "duplicate" : state === "sent" ? "pushed" : state === "failed" ? "failed" : state === "muted" ? "muted" : "no-devices";
  }
  return recipients;
}

/**
 * Creates a group's items (at most 250), each with the `increment(1)` of its owner's unread count, in one batch. The
 * run lease keeps other deliveries out, so the batch meets an existing item only when an earlier delivery was cut
 * short in an unusual order; then it is refused whole and its items are created one by one. Returns the recipients
 * whose item this call created.
 */
async function createItems(db: Firestore, event: DomainEvent, items: { uid: string; item: InboxItem }[]): Promise<Set<string>> {
  const created = new Set<string>();
  if (items.length === 0) return created;
  const addCreation = (batch: WriteBatch, uid: string, item: InboxItem) => {
    batch.create(itemRef(db, uid, event), item);
    batch.set(db.doc(inboxCounterDoc(uid)), { unread: FieldValue.increment(1) }, { merge: true });
  };
  const batch = db.batch();
  for (const { uid, item } of items) addCreation(batch, uid, item);
  try {
    await batch.commit();
    return new Set(items.map(({ uid }) => uid));
  } catch (error) {
    if (!isFirestoreError(error, "already-exists")) throw error;
  }
  for (const { uid, item } of items) {
    const single = db.batch();
    addCreation(single, uid, item);
    try {
      await single.commit();
      created.add(uid);
    } catch (error) {
      if (!isFirestoreError(error, "already-exists")) throw error;
    }
  }
  return created;
}
