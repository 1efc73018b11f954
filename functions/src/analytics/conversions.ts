import type { DocumentReference, DocumentSnapshot, Firestore } from "firebase-admin/firestore";
import { DEAD_LETTERS, receiveDomainEvent } from "../events/consume";
import type { IncomingMessage } from "../events/consume";
import { encodeEventId } from "../events/outbox";
import { DOMAIN_EVENTS_TOPIC } from "../events/schema";
import type { DomainEvent } from "../events/schema";
import type { Clock } from "../lib/clock";
import { isFirestoreError } from "../lib/firestore-errors";
import { logger } from "../lib/log";
import { ConversionsError, conversionEventId, hashEmail, hashExternalId } from "../meta/conversions";
import type { Conversion, ConversionsApi } from "../meta/conversions";
import { adsAccountSchema } from "../model/analytics";
import type { AdsEvent, AdsEventName } from "../model/analytics";
import { CURRENCIES } from "../model/money";
import { privateAccountDoc, pushTargetsDoc, pushTargetsSchema, userDoc } from "../model/social";
import { WISHES } from "../model/wish";
import { adsEventRef, adsEventsGroup } from "../store/analytics";
import { refs } from "../store/donations";

/**
 * Ads attribution (docs/analytics.md): the consumer of `domain-events` that sends a consenting user's completed
 * sign-up (`CompleteRegistration`) and succeeded donations (`Donate`) to Meta's Conversions API.
 *
 * Off the money path: it only reads what the donations ledger already committed, and a Conversions API outage only
 * delays its own queue. Each relevant event becomes `users/{uid}/adsEvents/{eventDocId}` (created with `create()`: a
 * redelivered domain event adds nothing). Every delivery then sends what is due, across users, as one batch: due
 * items are claimed in a transaction (leased), checked again at send time (consent, account, donation still
 * succeeded, not a surprise), sent in one request, and marked `sent` or `skipped`. A failed request puts the batch
 * back with exponential backoff; the message whose item is still pending fails, so Pub/Sub redelivers it later; after
 * `maxAttempts` the item is `dead` and a dead letter goes to ops (`ops/deadLetters/items`).
 */

export const ADS_CONSUMER = "ads-conversions";

export interface SendPolicy {
  /** Sends of one item before it is dead-lettered. */
  maxAttempts: number;
  /** Backoff after the n-th failed send: base × 2^(n-1), at most maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** How long a claimed batch belongs to its sender (a crashed sender's batch is due again after it). */
  leaseMs: number;
  /** Events per Conversions API request (Meta takes at most 1,000). */
  batchSize: number;
  /** Meta refuses events older than 7 days: older items are skipped. */
  maxEventAgeMs: number;
}

export const DEFAULT_SEND_POLICY: SendPolicy = {
  maxAttempts: 8,
  baseDelayMs: 60_000,
  maxDelayMs: 60 * 60_000,
  leaseMs: 2 * 60_000,
  batchSize: 200,
  maxEventAgeMs: 7 * 86_400_000 - 60 * 60_000,
};

export interface ConversionsDeps {
  db: Firestore;
  clock: Clock;
  /** Null when the Conversions API is not configured: the consumer does nothing at all. */
  api: ConversionsApi | null;
  policy?: Partial<SendPolicy>;
}

export interface FlushReport {
  claimed: number;
  sent: number;
  skipped: Record<string, number>;
  failed: number;
  dead: number;
}

export type ConversionsOutcome =
  | { outcome: "dead-lettered"; reason: string }
  | { outcome: "off" | "not-an-ads-event" | "no-consent" }
  | { outcome: "done"; state: "sent" | "skipped" | "dead"; flush: FlushReport };

/** Thrown when the message's own conversion is not sent yet (failed, backing off, or in another sender's batch). */
export class ConversionPendingError extends Error {}

/** Exponential backoff after the `attempts`-th failed send. */
export const backoffMs = (policy: SendPolicy, attempts: number): number => Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));

/**
 * Integer minor units as the decimal major-unit amount Meta expects (1999 CZK → 19.99), through the exact decimal
 * string, so no binary rounding creeps in (never 19.990000000000002).
 */
export function toMajorUnits(minor: number, exponent: number): number {
  if (!Number.isInteger(minor) || !Number.isInteger(exponent) || exponent < 0) throw new Error(`not a minor-unit amount: ${minor} (exponent ${exponent})`);
  const digits = String(Math.abs(minor)).padStart(exponent + 1, "0");
  const decimal = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return Number(`${minor < 0 ? "-" : ""}${decimal}`);
}

/** The conversion a domain event stands for, and whose it is; null for every other event. */
export function conversionOf(event: DomainEvent): { uid: string; eventName: AdsEventName; donationId: string | null } | null {
  if (event.type === "user.signed_up") return { uid: event.userId, eventName: "CompleteRegistration", donationId: null };
  if (event.type === "donation.received") return { uid: event.donorId, eventName: "Donate", donationId: event.donationId };
  return null;
}

const hasConsent = (account: DocumentSnapshot): boolean => adsAccountSchema.safeParse(account.data() ?? {}).data?.settings?.adsConsent === true;

export async function handleConversionsMessage(deps: ConversionsDeps, message: IncomingMessage): Promise<ConversionsOutcome> {
  const received = await receiveDomainEvent({ db: deps.db, now: deps.clock.now() }, ADS_CONSUMER, message);
  if (!received.ok) return { outcome: "dead-lettered", reason: received.reason };
  if (!deps.api) return { outcome: "off" };
  const { event } = received;
  const wanted = conversionOf(event);
  if (!wanted) return { outcome: "not-an-ads-event" };

  const ref = adsEventRef(deps.db, wanted.uid, encodeEventId(event.id));
  const [item, account] = await Promise.all([ref.get(), deps.db.doc(privateAccountDoc(wanted.uid)).get()]);
  if (!item.exists) {
    // Not even queued without consent (checked again when it is sent).
    if (!hasConsent(account)) return { outcome: "no-consent" };
    const now = deps.clock.now();
    const fresh: AdsEvent = {
      eventId: event.id,
      eventName: wanted.eventName,
      uid: wanted.uid,
      donationId: wanted.donationId,
      occurredAt: new Date(event.occurredAt),
      datasetId: deps.api.datasetId,
      state: "pending",
      attempts: 0,
      nextAttemptAt: now,
      lastError: null,
      skippedReason: null,
      sentAt: null,
      data: received.raw,
      messageId: message.messageId,
      createdAt: now,
    };
    await ref.create(fresh).catch((error: unknown) => {
      if (!isFirestoreError(error, "already-exists")) throw error; // a concurrent delivery queued it first
    });
  }

  const flush = await flushDueConversions(deps, deps.api);
  const afterSnap = await ref.get();
  const after = afterSnap.data();
  if (after?.state === "pending" && after.datasetId !== deps.api.datasetId && afterSnap.updateTime) {
    // Queued for a dataset that is no longer configured (ops changed META_DATASET_ID): every flush sends the current
    // dataset's queue only, so it would wait for ever and its message would fail until Pub/Sub dropped it. Meta
    // attributes per dataset, so it is not moved to the new one: it ends `skipped` (the precondition leaves it alone if
    // a sender of the old dataset is still at work on it; the redelivery looks again).
    await ref.update({ state: "skipped", skippedReason: "dataset_changed" }, { lastUpdateTime: afterSnap.updateTime }).catch((error: unknown) => {
      if (!isFirestoreError(error, "failed-precondition")) throw error;
      throw new ConversionPendingError(`conversion of ${event.id} changed while it was being skipped; Pub/Sub redelivers`);
    });
    logger.warn("conversion queued for a dataset no longer configured: skipped", { eventId: event.id, datasetId: after.datasetId });
    return { outcome: "done", state: "skipped", flush };
  }
  if (!after || after.state === "pending") {
    throw new ConversionPendingError(`conversion of ${event.id} not sent yet (attempts ${after?.attempts ?? 0}); Pub/Sub redelivers`);
  }
  return { outcome: "done", state: after.state, flush };
}

interface Claimed {
  ref: DocumentReference<AdsEvent>;
  item: AdsEvent;
}

/**
 * Sends every due conversion of the api's dataset (up to one batch), across users: claims them, checks each again,
 * sends the eligible ones in one request and records the outcome. Also what an ops re-drive runs.
 */
export async function flushDueConversions(deps: ConversionsDeps, api: ConversionsApi): Promise<FlushReport> {
  const policy = { ...DEFAULT_SEND_POLICY, ...deps.policy };
  const now = deps.clock.now();
  const claimed = await deps.db.runTransaction(async (tx) => {
    const due = await tx.get(
      adsEventsGroup(deps.db)
        .where("datasetId", "==", api.datasetId)
        .where("state", "==", "pending")
        .where("nextAttemptAt", "<=", now)
        .orderBy("nextAttemptAt")
        .limit(policy.batchSize),
    );
    const leaseUntil = new Date(now.getTime() + policy.leaseMs);
    return due.docs.map((doc): Claimed => {
      const item = { ...doc.data(), attempts: doc.data().attempts + 1, nextAttemptAt: leaseUntil };
      tx.update(doc.ref, { attempts: item.attempts, nextAttemptAt: leaseUntil });
      return { ref: doc.ref, item };
    });
  });
  const report: FlushReport = { claimed: claimed.length, sent: 0, skipped: {}, failed: 0, dead: 0 };
  if (claimed.length === 0) return report;

  const verdicts = await checkAtSendTime(deps.db, claimed, now, policy);
  const writes = deps.db.batch();
  const sendable: { claim: Claimed; conversion: Conversion }[] = [];
  claimed.forEach((claim, index) => {
    const verdict = verdicts[index];
    if (verdict && "conversion" in verdict) sendable.push({ claim, conversion: verdict.conversion });
    else {
      const reason = verdict?.skip ?? "unknown";
      report.skipped[reason] = (report.skipped[reason] ?? 0) + 1;
      writes.update(claim.ref, { state: "skipped", skippedReason: reason });
    }
  });

  let traceId: string | null = null;
  if (sendable.length > 0) {
    try {
      const answer = await api.send(sendable.map((entry) => entry.conversion));
      traceId = answer.traceId;
      if (answer.received !== sendable.length) logger.warn("Conversions API received another number of events", { sent: sendable.length, received: answer.received, traceId });
      for (const { claim } of sendable) writes.update(claim.ref, { state: "sent", sentAt: now, lastError: null });
      report.sent = sendable.length;
    } catch (error) {
      const lastError = error instanceof ConversionsError ? error.message : `unexpected ${error instanceof Error ? error.name : "error"}`;
      for (const { claim } of sendable) {
        if (claim.item.attempts >= policy.maxAttempts) {
          report.dead += 1;
          writes.update(claim.ref, { state: "dead", lastError });
          writes.set(deps.db.collection(DEAD_LETTERS).doc(`${ADS_CONSUMER}-${claim.ref.id}`), {
            consumer: ADS_CONSUMER,
            topic: DOMAIN_EVENTS_TOPIC,
            messageId: claim.item.messageId,
            itemPath: claim.ref.path,
            reason: `Conversions API failed ${claim.item.attempts} times: ${lastError}`,
            data: claim.item.data,
            attributes: { eventId: claim.item.eventId },
            receivedAt: now,
          });
        } else {
          report.failed += 1;
          writes.update(claim.ref, { nextAttemptAt: new Date(now.getTime() + backoffMs(policy, claim.item.attempts)), lastError });
        }
      }
      logger.warn("Conversions API send failed; batch backs off", { events: sendable.length, error: lastError, dead: report.dead });
    }
  }
  await writes.commit();
  logger.info("ads conversions flushed", { claimed: report.claimed, sent: report.sent, skipped: report.skipped, failed: report.failed, dead: report.dead, traceId });
  // The line the `dead-letters` alert watches (docs/operations.md), as for a message no consumer could read.
  for (const { claim } of report.dead > 0 ? sendable : []) {
    if (claim.item.attempts < policy.maxAttempts) continue;
    logger.warn("domain event dead-lettered", { consumer: ADS_CONSUMER, messageId: claim.item.messageId, reason: `Conversions API failed ${claim.item.attempts} times` });
  }
  return report;
}

type Verdict = { conversion: Conversion } | { skip: string };

/**
 * The send-time checks, reading the whole batch's documents at once (people by `getAll`, the rest in parallel): the
 * user still exists and still consents (a withdrawn consent or a deleted account stops a queued event), a donation is
 * still `succeeded` (not refunded or disputed meanwhile), its wish exists and is not a surprise, and its value comes
 * from its ledger entries.
 */
async function checkAtSendTime(db: Firestore, claimed: Claimed[], now: Date, policy: SendPolicy): Promise<Verdict[]> {
  const uids = [...new Set(claimed.map((c) => c.item.uid))];
  const donationIds = [...new Set(claimed.flatMap((c) => (c.item.donationId ? [c.item.donationId] : [])))];
  const [people, donationSnaps] = await Promise.all([
    db.getAll(...uids.flatMap((uid) => [db.doc(userDoc(uid)), db.doc(privateAccountDoc(uid)), db.doc(pushTargetsDoc(uid))])),
    Promise.all(donationIds.map((id) => refs.donation(db, id).get())),
  ]);
  const person = new Map(uids.map((uid, i) => [uid, { profile: people[3 * i], account: people[3 * i + 1], push: people[3 * i + 2] }]));
  const donations = new Map(donationIds.map((id, i) => [id, donationSnaps[i]?.data()]));
  const wishIds = [...new Set([...donations.values()].flatMap((d) => (d ? [d.wishId] : [])))];
  const entryIds = [...new Set([...donations.values()].flatMap((d) => d?.ledgerEntryIds ?? []))];
  const [wishSnaps, entrySnaps] = await Promise.all([
    wishIds.length ? db.getAll(...wishIds.map((id) => db.collection(WISHES).doc(id))) : Promise.resolve<DocumentSnapshot[]>([]),
    Promise.all(entryIds.map((id) => refs.ledgerEntry(db, id).get())),
  ]);
  const surprise = new Map(wishIds.map((id, i) => [id, wishSnaps[i]?.exists ? wishSnaps[i].get("isSurprise") !== false : null]));
  const entries = new Map(entryIds.map((id, i) => [id, entrySnaps[i]?.data()]));

  return claimed.map(({ item }): Verdict => {
    const who = person.get(item.uid);
    if (now.getTime() - item.occurredAt.getTime() > policy.maxEventAgeMs) return { skip: "too_old" };
    if (!who?.profile?.exists) return { skip: "account_deleted" };
    if (!who.account || !hasConsent(who.account)) return { skip: "no_consent" };
    const email = adsAccountSchema.safeParse(who.account.data() ?? {}).data?.email;
    const conversion: Conversion = {
      eventName: item.eventName,
      eventId: conversionEventId(item.eventId),
      eventTime: item.occurredAt,
      externalId: hashExternalId(item.uid),
      email: email?.trim() ? hashEmail(email) : null,
      value: null,
      platform: platformOf(who.push),
    };
    if (item.eventName !== "Donate") return { conversion };

    const donation = item.donationId ? donations.get(item.donationId) : undefined;
    if (!donation || donation.donorId !== item.uid) return { skip: "donation_missing" };
    if (donation.status !== "succeeded") return { skip: `donation_${donation.status}` };
    const isSurprise = surprise.get(donation.wishId);
    if (isSurprise === null || isSurprise === undefined) return { skip: "wish_missing" };
    // Nothing about a surprise reaches Meta, not even that someone gave to one (docs/analytics.md).
    if (isSurprise) return { skip: "surprise_wish" };
    const charged = donation.ledgerEntryIds
      .map((id) => entries.get(id))
      .filter((entry) => entry && (entry.kind === "charge" || entry.kind === "charge_adjustment") && entry.currency === donation.currency)
      .reduce((sum, entry) => sum + (entry?.amount ?? 0), 0);
    if (charged <= 0) return { skip: "no_value" };
    return { conversion: { ...conversion, value: { amount: toMajorUnits(charged, CURRENCIES[donation.currency].exponent), currency: donation.currency } } };
  });
}

/** The platform of one of the user's registered phones (iOS first), for `app_data.extinfo`. */
function platformOf(push: DocumentSnapshot | undefined): "ios" | "android" | null {
  const targets = pushTargetsSchema.safeParse(push?.data() ?? {});
  const platforms = new Set(targets.success ? Object.values(targets.data.devices).map((target) => target.platform) : []);
  return platforms.has("ios") ? "ios" : platforms.has("android") ? "android" : null;
}
