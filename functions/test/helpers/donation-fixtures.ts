// Seeds for the donations tests: wishes in the exact wishSchema shape (written with the Admin SDK, as createWish
// would), so these tests do not depend on the wishes domain's callables.
import type { Firestore } from "firebase-admin/firestore";
import type { Wish } from "../../src/model/wish";
import { newWishState, wishSchema } from "../../src/model/wish";

export function wishData(over: Partial<Wish> = {}): Wish {
  const now = new Date();
  return wishSchema.parse({
    ownerId: "olga",
    organizerId: "olga",
    isSurprise: false,
    title: "A red bike",
    description: "For the summer",
    imageUrl: null,
    amount: 150_000,
    currency: "CZK",
    deadline: new Date(now.getTime() + 30 * 86_400_000),
    audience: { kind: "people", groupIds: [], userIds: ["dana", "dave"] },
    viewerIds: ["olga", "dana", "dave"],
    ...newWishState(now),
    ...over,
  });
}

export async function seedWish(db: Firestore, wishId: string, over: Partial<Wish> = {}): Promise<Wish> {
  const wish = wishData(over);
  await db.collection("wishes").doc(wishId).set(wish);
  return wish;
}
