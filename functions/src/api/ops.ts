import type { CallableRequest } from "firebase-functions/v2/https";
import { retryPayout as retryPayoutOp } from "../ops/payouts";
import { freezeWish as freezeWishOp, retryRefund as retryRefundOp } from "../ops/refunds";
import { payoutProvider, taskDeps } from "./deps";
import { requireAdmin } from "./errors";

/** Ops actions: admin custom claim only; every action lands in auditLog (docs/operations.md). */
export const retryRefund = (request: CallableRequest) => retryRefundOp(taskDeps(), requireAdmin(request), request.data);
export const freezeWish = (request: CallableRequest) => freezeWishOp(taskDeps(), requireAdmin(request), request.data);
export const retryPayout = (request: CallableRequest) => retryPayoutOp({ ...taskDeps(), provider: payoutProvider() }, requireAdmin(request), request.data);
