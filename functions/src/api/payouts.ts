import type { CallableRequest } from "firebase-functions/v2/https";
import type { Change, DocumentSnapshot, FirestoreEvent } from "firebase-functions/v2/firestore";
import type { Request as TaskRequest } from "firebase-functions/v2/tasks";
import { createPayoutAccountLink as createPayoutAccountLinkOp } from "../payouts/accounts";
import { onPayoutAccountChanged, payoutTaskPayload, runPayoutTask } from "../payouts/payouts";
import { baseDeps, payoutProvider, taskDeps } from "./deps";
import { requireAuth } from "./errors";
import { payoutOnboardingRefreshUrl, payoutOnboardingReturnUrl } from "./params";

/** Task retry budget of payOutWish (index.ts): the payout domain counts attempts against it. */
export { PAYOUT_MAX_ATTEMPTS } from "../payouts/payouts";

/** Payouts through Stripe Connect Express (docs/operations.md "Payouts"). */
export const createPayoutAccountLink = (request: CallableRequest) =>
  createPayoutAccountLinkOp(
    { ...baseDeps(), provider: payoutProvider(), urls: { returnUrl: payoutOnboardingReturnUrl.value(), refreshUrl: payoutOnboardingRefreshUrl.value() } },
    requireAuth(request),
    request.data,
  );

export async function payOutWish(request: TaskRequest): Promise<void> {
  await runPayoutTask({ ...taskDeps(), provider: payoutProvider() }, payoutTaskPayload.parse(request.data), request.retryCount);
}

/** The owner's account became able to receive transfers → their held payouts go out. */
export async function payoutAccountWritten(event: FirestoreEvent<Change<DocumentSnapshot> | undefined, { uid: string }>): Promise<void> {
  await onPayoutAccountChanged(taskDeps(), event.params.uid, {
    before: event.data?.before.get("transfersActive") === true,
    after: event.data?.after.get("transfersActive") === true,
  });
}
