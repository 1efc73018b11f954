// A money world for in-process tests of refunds, payouts and the ledger under faults (issue 12): the domain
// functions called directly against their own Firestore database in the emulator ("money": the emulated functions'
// triggers listen on "(default)", so nothing runs behind the test's back), the fake Stripe through the real SDK,
// Stripe's webhooks signed and handed to the webhook handler, Cloud Tasks as a queue the test dispatches (duplicates,
// losses, retries and last attempts are the test's choices), and the Firestore triggers fired when the test says, as
// the emulated `wishClosingOnWrite` and `donationOnWrite` would (after the write, possibly late, coalesced).
import Stripe from "stripe";
import { getFirestore } from "firebase-admin/firestore";
import type { DocumentSnapshot, Firestore } from "firebase-admin/firestore";
import { StripeClosingProvider } from "../../src/payments/refunds";
import type { ClosingProvider } from "../../src/payments/refunds";
import { REFUND_MAX_ATTEMPTS, REFUND_QUEUE, donationRefundView, fanOutRefunds, onDonationWrittenForRefunds, refundTaskPayload, runRefundTask } from "../../src/closing/refunds";
import { closingView, onWishWrittenForClosing } from "../../src/closing/trigger";
import { FOLD_QUEUE, foldTaskPayload, foldWishCounters } from "../../src/donations/counters";
import { processPaymentEvent } from "../../src/donations/ledger";
import type { LedgerDeps } from "../../src/donations/ledger";
import { handlePaymentWebhook } from "../../src/settlement/webhook";
import { fixedClock } from "./clock";
import type { EnqueueOptions, TaskEnqueuer } from "../../src/lib/tasks";
import { newPendingDonationState } from "../../src/model/donation";
import { newWishState } from "../../src/model/wish";
import type { Wish } from "../../src/model/wish";
import { PaymentProviderError } from "../../src/payments/provider";
import { StripePaymentProvider, StripeWebhookVerifier } from "../../src/payments/stripe";
import { PAYOUT_MAX_ATTEMPTS, PAYOUT_QUEUE, payoutTaskPayload, requestPayout, runPayoutTask } from "../../src/payouts/payouts";
import { StripePayoutProvider } from "../../src/payments/transfers";
import type { PayoutProvider } from "../../src/payments/transfers";
import type { FakeStripe, StripeEventObject } from "../../devtools/fakes/stripe";
import { adminApp } from "../../devtools/support/admin";
import { wishData } from "./closing";
import { PROJECT_ID, requireEnv } from "../../devtools/support/emulators";
import { fakeBtcpay, fakeStripe } from "../../devtools/support/fakes";
import type { FakeBtcpay, FakeDelivery } from "../../devtools/fakes/btcpay";
import { BtcpayClient, BtcpayClosingProvider } from "../../src/payments/btcpay";
import { handleBtcpayWebhook } from "../../src/settlement/btcpay";
import type { ProviderName } from "../../src/model/donation";

export const MONEY_DB = "money";
export const moneyDb = (): Firestore => getFirestore(adminApp(), MONEY_DB);

/** Empties the money database (the emulator's reset endpoint, per database). */
export async function clearMoneyDb(): Promise<void> {
  const response = await fetch(`http://${requireEnv("FIRESTORE_EMULATOR_HOST")}/emulator/v1/projects/${PROJECT_ID}/databases/${MONEY_DB}/documents`, { method: "DELETE" });
  if (!response.ok) throw new Error(`Clearing the ${MONEY_DB} database failed: HTTP ${response.status}`);
}

/**
 * The SDK pointed at the fake without its own network retries: a 409, a 5xx or a dropped answer reaches our code at
 * once, and the retry is Cloud Tasks' (a command of the test), which is what production does after the SDK gives up.
 */
export function directStripe(): Stripe {
  const url = new URL(requireEnv("ELATEME_FAKE_STRIPE_URL"));
  return new Stripe("sk_test_elateme_money", { host: url.hostname, port: Number(url.port), protocol: "http", maxNetworkRetries: 0, telemetry: false, timeout: 20_000 });
}

/** A call whose answer the network loses after Stripe acted (the SDK gave up: no code, no HTTP status). */
async function lose<T>(call: Promise<T>): Promise<T> {
  await call;
  throw new PaymentProviderError("fake network: the answer was lost after Stripe acted", null, null);
}

/** The closing provider, with answers the test can have lost on the way back. */
export class LossyClosingProvider implements ClosingProvider {
  loseNextRefund = false;
  constructor(private readonly inner: ClosingProvider) {}
  refund(input: Parameters<ClosingProvider["refund"]>[0]) {
    if (!this.loseNextRefund) return this.inner.refund(input);
    this.loseNextRefund = false;
    return lose(this.inner.refund(input));
  }
  refundsOfPayment(paymentIntentId: string) {
    return this.inner.refundsOfPayment(paymentIntentId);
  }
  disputesOfPayment(paymentIntentId: string) {
    return this.inner.disputesOfPayment(paymentIntentId);
  }
  payment(paymentIntentId: string) {
    return this.inner.payment(paymentIntentId);
  }
  refundsSince(since: Date) {
    return this.inner.refundsSince(since);
  }
  paymentsSince(since: Date) {
    return this.inner.paymentsSince(since);
  }
}

/** The payout provider, with transfer answers the test can have lost on the way back. */
export class LossyPayoutProvider implements PayoutProvider {
  loseNextTransfer = false;
  constructor(private readonly inner: PayoutProvider) {}
  transfer(input: Parameters<PayoutProvider["transfer"]>[0]) {
    if (!this.loseNextTransfer) return this.inner.transfer(input);
    this.loseNextTransfer = false;
    return lose(this.inner.transfer(input));
  }
  createAccount(input: Parameters<PayoutProvider["createAccount"]>[0]) {
    return this.inner.createAccount(input);
  }
  retrieveAccount(accountId: string) {
    return this.inner.retrieveAccount(accountId);
  }
  createOnboardingLink(input: Parameters<PayoutProvider["createOnboardingLink"]>[0]) {
    return this.inner.createOnboardingLink(input);
  }
  transfersOfWish(wishId: string) {
    return this.inner.transfersOfWish(wishId);
  }
  transfersSince(since: Date) {
    return this.inner.transfersSince(since);
  }
}

export interface QueuedTask {
  queue: string;
  id: string;
  payload: Record<string, unknown>;
  /** Cloud Tasks' count of earlier attempts of this task. */
  retryCount: number;
}

/** Cloud Tasks refusing an enqueue (`14 UNAVAILABLE`), as {@link TaskQueue.failNext} injects it. */
export class TasksUnavailableError extends Error {
  readonly code = "unavailable";
  constructor() {
    super("14 UNAVAILABLE: Cloud Tasks is unavailable (injected)");
  }
}

/** Cloud Tasks as a queue the test dispatches: it records, refuses a repeated id (as Cloud Tasks does), runs nothing. */
export class TaskQueue implements TaskEnqueuer {
  readonly pending: QueuedTask[] = [];
  private readonly ids = new Set<string>();
  /** The next this-many enqueues fail with {@link TasksUnavailableError} (a Cloud Tasks outage), whatever the queue. */
  failNext = 0;
  /** How many enqueues have failed so far. */
  injected = 0;

  enqueue(queue: string, payload: Record<string, unknown>, options: EnqueueOptions = {}): Promise<"enqueued" | "duplicate"> {
    if (this.failNext > 0) {
      this.failNext--;
      this.injected++;
      return Promise.reject(new TasksUnavailableError());
    }
    const id = options.id ?? `${queue}-${this.ids.size}`;
    if (this.ids.has(id)) return Promise.resolve("duplicate");
    this.ids.add(id);
    this.pending.push({ queue, id, payload, retryCount: 0 });
    return Promise.resolve("enqueued");
  }

  remove(task: QueuedTask): void {
    const index = this.pending.indexOf(task);
    if (index >= 0) this.pending.splice(index, 1);
  }
}

const MAX_ATTEMPTS: Record<string, number> = { [REFUND_QUEUE]: REFUND_MAX_ATTEMPTS, [PAYOUT_QUEUE]: PAYOUT_MAX_ATTEMPTS };

/** One money world: a database, a clock, the task queue, providers and what has been delivered and fired. */
export class MoneyWorld {
  readonly db = moneyDb();
  readonly clock = fixedClock(new Date());
  readonly tasks = new TaskQueue();
  readonly stripe: FakeStripe = fakeStripe();
  readonly sdk = directStripe();
  readonly closing = new LossyClosingProvider(new StripeClosingProvider(this.sdk));
  readonly payouts = new LossyPayoutProvider(new StripePayoutProvider(this.sdk));
  readonly payments = new StripePaymentProvider(this.sdk);
  readonly webhooks = new StripeWebhookVerifier(this.sdk, this.stripe.webhookSecret);
  /** `forceWishPath` (or its two knobs, `quietAfterMs` and `busyAfterFoldMs`) chooses the webhook's path whatever the timing. */
  readonly ledger: LedgerDeps = { db: this.db, clock: this.clock, tasks: this.tasks };
  /** Closing ports of the other rails this world has (test/helpers/bank.ts adds Fio's); Stripe's otherwise. */
  readonly providers: Partial<Record<ProviderName, ClosingProvider>> = {};
  /** The bitcoin rail: the fake BTCPay Server through our Greenfield client. */
  readonly btcpay: FakeBtcpay = fakeBtcpay();
  readonly btcpayClient = new BtcpayClient({ url: requireEnv("ELATEME_FAKE_BTCPAY_URL"), storeId: this.btcpay.storeId, apiKey: this.btcpay.apiKey }, this.clock);
  readonly btcpayClosing = new BtcpayClosingProvider(this.btcpayClient);
  readonly btcpayDeps = { ...this.ledger, btcpay: this.btcpayClient, storeId: this.btcpay.storeId };
  readonly refundDeps = { ...this.ledger, tasks: this.tasks, providerOf: (provider: ProviderName) => this.providers[provider] ?? (provider === "btcpay" ? this.btcpayClosing : this.closing), applyProviderEvent: (event: Parameters<typeof processPaymentEvent>[1]) => processPaymentEvent(this.ledger, event) };
  readonly payoutDeps = { ...this.ledger, tasks: this.tasks, provider: this.payouts };
  /** Ids of the fake's events delivered to the webhook (each once; duplicates are the test's to add). */
  readonly delivered = new Set<string>();
  private readonly eventsFrom: number;
  private readonly lastSeen = new Map<string, DocumentSnapshot>();

  constructor() {
    this.eventsFrom = this.stripe.events.length;
  }

  /** The fake's events of this world not delivered yet, oldest first. */
  undelivered(): StripeEventObject[] {
    return this.stripe.events.slice(this.eventsFrom).filter((event) => !this.delivered.has(event.id));
  }

  /** Stripe delivers `event` to `stripeWebhook`: signed, verified and handled exactly as the deployed function does. */
  /** Webhook 500s put down to injected Cloud Tasks outages so far (at most one per failed enqueue). */
  private excused500s = 0;

  async deliver(event: StripeEventObject): Promise<void> {
    const { payload, signature } = this.stripe.signed(event, this.stripe.webhookSecret);
    const response = await handlePaymentWebhook({ ...this.ledger, webhooks: this.webhooks, tasks: this.tasks }, { method: "POST", rawBody: Buffer.from(payload), signature });
    // A 500 caused by an injected Cloud Tasks outage (one per failed enqueue): Stripe redelivers the event later.
    if (response.status === 500 && this.excused500s < this.tasks.injected) {
      this.excused500s++;
      return;
    }
    if (response.status !== 200) throw new Error(`${event.type} ${event.id}: webhook answered ${response.status} ${JSON.stringify(response.body)}`);
    this.delivered.add(event.id);
  }

  /** BTCPay delivers one webhook to `btcpayWebhook`, handled as the deployed function does; answers the HTTP status. */
  async deliverBtcpay(delivery: FakeDelivery): Promise<number> {
    const response = await handleBtcpayWebhook({ ...this.btcpayDeps, webhookSecret: this.btcpay.webhookSecret }, { method: "POST", rawBody: Buffer.from(delivery.rawBody), signature: delivery.signature });
    return response.status;
  }

  /** Delivers every undelivered event (account webhook events only: Connect's go elsewhere), oldest first; then BTCPay's. */
  async deliverAll(): Promise<number> {
    const btcpayDeliveries = this.btcpay.takeDeliveries();
    for (const delivery of btcpayDeliveries) {
      const status = await this.deliverBtcpay(delivery);
      if (status !== 200) throw new Error(`BTCPay ${String(delivery.body.type)}: webhook answered ${status}`);
    }
    const pending = this.undelivered().filter((event) => !event.account);
    for (const event of pending) await this.deliver(event);
    for (const event of this.undelivered()) if (event.account) this.delivered.add(event.id);
    return pending.length + btcpayDeliveries.length;
  }

  /**
   * Fires the Firestore triggers of the wish and its donations for what changed since they last fired, as the
   * emulated `wishClosingOnWrite` and `donationOnWrite` would. Answers how many fired.
   */
  async fireTriggers(wishId: string): Promise<number> {
    // The counters' fold (a task the webhook queued, which this harness may run before its time): run it here too.
    await foldWishCounters(this.ledger, wishId);
    const [wish, donations] = await Promise.all([this.db.collection("wishes").doc(wishId).get(), this.db.collection("donations").where("wishId", "==", wishId).get()]);
    let fired = 0;
    const changed = (snap: DocumentSnapshot) => {
      const before = this.lastSeen.get(snap.ref.path);
      if (before && JSON.stringify(before.data()) === JSON.stringify(snap.data())) return undefined;
      this.lastSeen.set(snap.ref.path, snap);
      fired++;
      return { before };
    };
    // A trigger that throws on an injected Cloud Tasks outage is retried (they are deployed with retry): it fires again
    // on the next call, as if the platform redelivered it.
    const retried = async (snap: DocumentSnapshot, before: DocumentSnapshot | undefined, fire: () => Promise<unknown>) => {
      try {
        await fire();
      } catch (error) {
        if (!(error instanceof TasksUnavailableError)) throw error;
        if (before) this.lastSeen.set(snap.ref.path, before);
        else this.lastSeen.delete(snap.ref.path);
      }
    };
    const wishChange = changed(wish);
    if (wishChange) await retried(wish, wishChange.before, async () => {
      const actions = await onWishWrittenForClosing(
        {
          scheduleDeadline: () => Promise.resolve(),
          refundAll: (reason) => fanOutRefunds(this.refundDeps, wishId, reason),
          payOut: () => requestPayout(this.payoutDeps, wishId),
        },
        closingView(wishChange.before),
        closingView(wish),
        this.clock.now(),
      );
      // Production fires the trigger once per write; here writes since the last firing are coalesced, which can hide
      // a change of `raised` that went and came back (a refund booked, then failed). Each of those writes would have
      // asked for the payout, so a funded wish's write always does here (requestPayout is idempotent).
      if (wish.get("status") === "funded" && !actions.some((action) => action.kind === "pay-out")) await requestPayout(this.payoutDeps, wishId);
    });
    for (const donation of donations.docs) {
      const change = changed(donation);
      if (change) await retried(donation, change.before, () => onDonationWrittenForRefunds(this.refundDeps, donation.id, donationRefundView(change.before), donationRefundView(donation)));
    }
    return fired;
  }

  /**
   * Dispatches one queued task as Cloud Tasks would (with its retry count, or `retryCount` when given, e.g. the last
   * attempt). Answers `done` (acknowledged: removed), `retry` (it threw: Cloud Tasks retries it later) or `gave-up`
   * (it threw on its last attempt: Cloud Tasks drops it).
   */
  async runTask(task: QueuedTask, retryCount = task.retryCount): Promise<"done" | "retry" | "gave-up"> {
    try {
      if (task.queue === REFUND_QUEUE) await runRefundTask(this.refundDeps, refundTaskPayload.parse(task.payload), retryCount);
      else if (task.queue === PAYOUT_QUEUE) await runPayoutTask(this.payoutDeps, payoutTaskPayload.parse(task.payload), retryCount);
      else if (task.queue === FOLD_QUEUE) await foldWishCounters(this.ledger, foldTaskPayload.parse(task.payload).wishId);
      this.tasks.remove(task);
      return "done";
    } catch (error) {
      // A provider error, or Cloud Tasks failing an enqueue the task makes: it throws, and Cloud Tasks retries it.
      if (!(error instanceof PaymentProviderError) && !(error instanceof TasksUnavailableError)) throw error;
      task.retryCount = retryCount + 1;
      if (task.retryCount >= (MAX_ATTEMPTS[task.queue] ?? 1)) {
        this.tasks.remove(task);
        return "gave-up";
      }
      return "retry";
    }
  }

  /** Until nothing moves: every event delivered, every trigger fired, every task run (retries included). */
  async quiesce(wishId: string, maxRounds = 40): Promise<void> {
    for (let round = 0; round < maxRounds; round++) {
      let moved = await this.deliverAll();
      moved += await this.fireTriggers(wishId);
      for (const task of [...this.tasks.pending]) {
        await this.runTask(task);
        moved++;
      }
      if (moved === 0) return;
    }
    throw new Error(`the money of ${wishId} did not come to rest in ${maxRounds} rounds`);
  }

  // ---- set-up ----

  /** An open wish in this world (the money database), as createWish would leave it. */
  /** Every donation of this world goes straight into its wish ("quiet") or to one of its shards ("busy"). */
  forceWishPath(path: "quiet" | "busy"): void {
    this.ledger.quietAfterMs = path === "quiet" ? 0 : Number.POSITIVE_INFINITY;
    this.ledger.busyAfterFoldMs = path === "quiet" ? 0 : undefined;
  }

  async seedWish(wishId: string, over: Partial<Wish> = {}): Promise<void> {
    const now = this.clock.now();
    const wish = wishData({
      ownerId: "olga",
      deadline: new Date(now.getTime() + 7 * 86_400_000),
      viewerIds: ["olga", "dana", "dave", "dora"],
      ...newWishState(now),
      ...over,
    });
    // The owner finished signing up (closeWish admits only users with a profile); kept if it exists.
    await this.db.collection("users").doc(wish.ownerId).set({ displayName: wish.ownerId, photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now });
    await this.db.collection("wishes").doc(wishId).set(wish);
  }

  /** The owner has a Connect account able to receive transfers (onboarded at Stripe), recorded as the callable would. */
  async onboard(uid: string): Promise<string> {
    const account = await this.sdk.accounts.create({ type: "express", capabilities: { transfers: { requested: true } }, metadata: { uid } });
    this.stripe.connect.completeOnboarding(account.id);
    const now = this.clock.now();
    await this.db.collection("payoutAccounts").doc(uid).set({
      uid,
      provider: "stripe",
      accountId: account.id,
      transfersActive: true,
      payoutsEnabled: true,
      detailsSubmitted: true,
      requirementsDue: [],
      stateAt: now.getTime(),
      createdAt: now,
      updatedAt: now,
    });
    return account.id;
  }

  /** A donation as `donate` leaves it, with its PaymentIntent on the fake Stripe carrying our metadata. */
  /** As `donate` leaves it; `busyWish`: as made while its wish was busy (the flag on the donation and the intent). */
  async pendingDonation(wishId: string, donorId: string, amount: number, options: { busyWish?: boolean } = {}): Promise<{ donationId: string; paymentIntentId: string }> {
    const donationId = `don-${donorId}-${Math.random().toString(36).slice(2, 10)}`;
    const busy: Record<string, string> = options.busyWish ? { busyWish: "1" } : {};
    const intent = await this.sdk.paymentIntents.create({ amount, currency: "czk", metadata: { donationId, wishId, donorId, ...busy } });
    const now = this.clock.now();
    await this.db.collection("donations").doc(donationId).set({
      wishId,
      donorId,
      donorDisplayName: donorId,
      amount,
      currency: "CZK",
      message: null,
      anonymous: false,
      ...(options.busyWish ? { busyWish: true } : {}),
      ...newPendingDonationState(now, "card"),
      customerId: null,
      paymentIntentId: intent.id,
    });
    return { donationId, paymentIntentId: intent.id };
  }

  /** A donation paid as production pays one: pending, then Stripe's payment_intent.succeeded delivered. */
  async paidDonation(wishId: string, donorId: string, amount: number): Promise<{ donationId: string; paymentIntentId: string }> {
    const pending = await this.pendingDonation(wishId, donorId, amount);
    await this.deliver(this.stripe.succeed(pending.paymentIntentId));
    return pending;
  }

  async doc(path: string): Promise<Record<string, unknown> | undefined> {
    return (await this.db.doc(path).get()).data();
  }
}
