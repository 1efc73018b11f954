import type { Firestore } from "firebase-admin/firestore";
import type { Clock } from "../lib/clock";
import type { PaymentProvider } from "../payments/provider";
import { isFirestoreError } from "../lib/firestore-errors";
import { refs } from "../store/donations";

/**
 * The user's one provider customer. The customer is created with an idempotency key derived from the uid, so
 * concurrent first donations get the same customer from the provider; `create()` then lets exactly one of them
 * record it and the others read it back.
 */
export async function ensureCustomer(deps: { db: Firestore; clock: Clock; provider: PaymentProvider }, uid: string): Promise<string> {
  const ref = refs.paymentCustomer(deps.db, uid);
  const existing = (await ref.get()).data();
  if (existing) return existing.stripeCustomerId;
  const { customerId } = await deps.provider.createCustomer({ userId: uid, idempotencyKey: `elateme_customer_${uid}` });
  try {
    await ref.create({ provider: "stripe", stripeCustomerId: customerId, createdAt: deps.clock.now() });
    return customerId;
  } catch (error) {
    if (!isFirestoreError(error, "already-exists")) throw error;
    const winner = (await ref.get()).data();
    if (!winner) throw error;
    return winner.stripeCustomerId;
  }
}
