import type { CallableRequest } from "firebase-functions/v2/https";
import type { Change, DocumentSnapshot, FirestoreEvent } from "firebase-functions/v2/firestore";
import type { Request as TaskRequest } from "firebase-functions/v2/tasks";
import { closeWish as closeWishOp } from "../closing/close";
import { deadlineTaskPayload, runDeadlineTask, sweepExpiredWishes } from "../closing/deadline";
import { donationRefundView, onDonationWrittenForRefunds, refundTaskPayload } from "../closing/refunds";
import { closingView } from "../closing/trigger";
import { auditWishMoney as auditWishMoneyOp, onWishWritten, reconcileStripe as reconcileStripeOp, runRefund } from "../settlement/settle";
import { closingProviderOf, payoutProvider, refundProvider, taskDeps } from "./deps";
import { requireAuth } from "./errors";

/** Task retry budget of refundDonation (index.ts): the refund domain counts attempts against it. */
export { REFUND_MAX_ATTEMPTS } from "../closing/refunds";

/** Closing a wish, its deadline, refunds, and the hourly reconciliation and money audit (docs/operations.md). */
export const closeWish = (request: CallableRequest) => closeWishOp(taskDeps(), requireAuth(request), request.data);

/** Wish created / deadline moved → deadline chain; open → closed | expired → refund fan-out; funded → payout. */
export async function wishWritten(event: FirestoreEvent<Change<DocumentSnapshot> | undefined, { wishId: string }>): Promise<void> {
  const deps = taskDeps();
  const writtenAt = event.data?.after.updateTime?.toDate() ?? deps.clock.now();
  await onWishWritten(deps, event.params.wishId, closingView(event.data?.before), closingView(event.data?.after), writtenAt);
}

export async function wishDeadline(request: TaskRequest): Promise<void> {
  const scheduled = new Date(request.scheduledTime);
  await runDeadlineTask(taskDeps(), deadlineTaskPayload.parse(request.data), Number.isNaN(scheduled.getTime()) ? undefined : scheduled);
}

export async function wishDeadlineSweep(): Promise<void> {
  await sweepExpiredWishes(taskDeps());
}

export async function refundDonation(request: TaskRequest): Promise<void> {
  await runRefund({ ...taskDeps(), providerOf: closingProviderOf() }, refundTaskPayload.parse(request.data), request.retryCount);
}

/** A donation fully refunded → our refund request completes; a donation succeeding on a closed wish → refund it. */
export async function donationWritten(event: FirestoreEvent<Change<DocumentSnapshot> | undefined, { donationId: string }>): Promise<void> {
  await onDonationWrittenForRefunds(taskDeps(), event.params.donationId, donationRefundView(event.data?.before), donationRefundView(event.data?.after));
}

export async function reconcileStripe(): Promise<void> {
  await reconcileStripeOp({ ...taskDeps(), provider: refundProvider(), payouts: payoutProvider() });
}

export async function auditWishMoney(): Promise<void> {
  await auditWishMoneyOp({ ...taskDeps(), providerOf: closingProviderOf(), payouts: payoutProvider() });
}
