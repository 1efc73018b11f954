// Fixtures for the wishes/comments/feed tests: friendships, groups and valid createWish input, written as the
// social domain's server code writes them (Admin SDK).
import { adminDb } from "../../devtools/support/admin";

const DAY = 86_400_000;

/** Both sides of a friendship, as the social callables write them. */
export async function befriend(a: string, ...others: string[]): Promise<void> {
  const db = adminDb();
  const since = new Date();
  for (let i = 0; i < others.length; i += 250) {
    const batch = db.batch();
    for (const b of others.slice(i, i + 250)) {
      batch.set(db.doc(`users/${a}/friends/${b}`), { friendId: b, source: "app", since });
      batch.set(db.doc(`users/${b}/friends/${a}`), { friendId: a, source: "app", since });
    }
    await batch.commit();
  }
}

export async function unfriendBoth(a: string, b: string): Promise<void> {
  const batch = adminDb().batch();
  batch.delete(adminDb().doc(`users/${a}/friends/${b}`));
  batch.delete(adminDb().doc(`users/${b}/friends/${a}`));
  await batch.commit();
}

export async function profile(uid: string, displayName: string, photoUrl: string | null = null): Promise<void> {
  const now = new Date();
  await adminDb().doc(`users/${uid}`).set({ displayName, photoUrl, facebookLinked: false, createdAt: now, updatedAt: now });
}

export async function group(owner: string, groupId: string, memberIds: string[]): Promise<void> {
  const now = new Date();
  await adminDb().doc(`users/${owner}/groups/${groupId}`).set({ name: groupId, memberIds, createdAt: now, updatedAt: now });
}

/** A valid createWish payload; override any field. */
export function wishInput(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: "New bike",
    description: "A red one",
    amount: 150_000,
    currency: "CZK",
    deadline: new Date(Date.now() + 30 * DAY).toISOString(),
    audience: { kind: "friends" },
    ...over,
  };
}

/** Feed item ids (`users/{uid}/feed`) that mention `wishId`. */
export async function feedOf(uid: string, wishId?: string): Promise<string[]> {
  const col = adminDb().collection(`users/${uid}/feed`);
  const snap = await (wishId ? col.where("wishId", "==", wishId) : col).get();
  return snap.docs.map((doc) => doc.id).sort();
}
