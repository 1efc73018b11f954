import type { Auth, UserIdentifier } from "firebase-admin/auth";
import type { Firestore, Timestamp } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError } from "../lib/errors";
import { z } from "zod";
import { addToOutbox, encodeEventId } from "../events/outbox";
import { OUTBOX } from "../events/schema";
import type { Clock } from "../lib/clock";
import { DEFAULT_SETTINGS } from "../model/social";
import type { FacebookSync } from "../model/social";
import { GraphError } from "./graph-client";
import type { GraphClient } from "./graph-client";
import { accountRef, friendRef, profileRef } from "../store/social";

export const FACEBOOK_PROVIDER = "facebook.com";

export const syncFacebookInput = z.object({
  accessToken: z.string().min(1).max(4096),
  /**
   * The ads-attribution choice the sign-up screen asked for (docs/analytics.md): stored as `settings.adsConsent` when
   * this call creates the account, so a consenting user's sign-up itself can be attributed. Ignored for an existing
   * account (its owner changes `settings` directly). Absent = off.
   */
  adsConsent: z.boolean().optional(),
});
export type SyncFacebookInput = z.infer<typeof syncFacebookInput>;

export interface SyncFacebookResult {
  /** `incomplete`: the sign-in is valid but Facebook could not be read; call syncFacebookProfile again later. */
  status: "complete" | "incomplete";
  profileSynced: boolean;
  friendsSynced: boolean;
  /** uids that became friends through this call. */
  newFriendIds: string[];
  /** True on the call that created the user's profile. */
  firstSignUp: boolean;
}

export interface FacebookDeps {
  db: Firestore;
  auth: Auth;
  graph: GraphClient;
  clock: Clock;
  appId: string;
}

/** Friend candidates per transaction (each new friendship is two writes; a transaction takes 500). */
const FRIEND_CHUNK = 200;

/**
 * Verifies a Facebook user access token against the caller's Firebase account, then loads their Facebook profile
 * and befriends their Facebook friends who use the app. Called by the app after every Facebook sign-in (and again
 * on the next start when a previous call answered `incomplete`). Idempotent: friendships and the `friend.joined`
 * event are created at most once.
 */
export async function syncFacebookProfile(deps: FacebookDeps, uid: string, input: SyncFacebookInput): Promise<SyncFacebookResult> {
  const user = await deps.auth.getUser(uid);
  const facebookLink = user.providerData.find((provider) => provider.providerId === FACEBOOK_PROVIDER);
  const facebookId = facebookLink?.uid;
  if (!facebookId) throw new DomainError("facebook_not_linked");

  await verifyToken(deps, input.accessToken, facebookId, uid);

  // From here on the sign-in is genuine: Graph failures make the sync incomplete, never fail it.
  const profile = await attempt("profile", uid, () => deps.graph.fetchProfile(input.accessToken));
  const friendFacebookIds = await attempt("friends", uid, () => deps.graph.fetchFriendIds(input.accessToken));
  const friendUids = friendFacebookIds ? await uidsForFacebookIds(deps.auth, friendFacebookIds, uid) : null;

  const now = deps.clock.now();
  const complete = profile !== null && friendUids !== null;
  const { firstSignUp, friendsSyncedBefore } = await deps.db.runTransaction(async (tx) => {
    const [profileSnap, accountSnap] = await Promise.all([tx.get(profileRef(deps.db, uid)), tx.get(accountRef(deps.db, uid))]);
    // The sign-up completes now (the profile is created): `user.signed_up` goes out once. Its outbox entry outlives a
    // profile deleted halfway through deleteAccount, so it is looked up rather than created blindly (a create of an
    // existing event would fail this whole sign-in).
    const signUpEventId = `user.signed_up:${uid}`;
    const signUpEvent = profileSnap.exists ? null : await tx.get(deps.db.collection(OUTBOX).doc(encodeEventId(signUpEventId)));
    const previousSync = accountSnap.get("facebookSync") as { friendsSyncedAt?: unknown; lastCompletedAt?: unknown } | undefined;
    const displayName =
      (profile && [profile.firstName, profile.lastName].filter(Boolean).join(" ")) ||
      (profileSnap.get("displayName") as string | undefined) ||
      user.displayName ||
      facebookLink?.displayName ||
      "ElateMe user";
    tx.set(profileRef(deps.db, uid), {
      displayName,
      photoUrl: profile ? profile.pictureUrl : ((profileSnap.get("photoUrl") as string | null | undefined) ?? user.photoURL ?? facebookLink?.photoURL ?? null),
      facebookLinked: true,
      createdAt: profileSnap.exists ? (profileSnap.get("createdAt") as Timestamp) : now,
      updatedAt: now,
    });
    const personal = profile
      ? { firstName: profile.firstName, lastName: profile.lastName, email: profile.email ?? user.email ?? null, birthday: normalizeBirthday(profile.birthday) }
      : accountSnap.exists
        ? {}
        : { firstName: null, lastName: null, email: user.email ?? null, birthday: null };
    const sync: Omit<FacebookSync, "friendsSyncedAt"> = {
      status: complete ? "complete" : "incomplete",
      lastAttemptAt: now,
      lastCompletedAt: complete ? now : ((previousSync?.lastCompletedAt as Date | undefined) ?? null),
    };
    tx.set(
      accountRef(deps.db, uid),
      {
        ...personal,
        facebookId,
        ...(accountSnap.exists ? {} : { settings: { ...DEFAULT_SETTINGS, adsConsent: input.adsConsent === true } }),
        facebookSync: { ...sync, friendsSyncedAt: previousSync?.friendsSyncedAt ?? null },
      },
      { merge: true },
    );
    if (signUpEvent && !signUpEvent.exists) addToOutbox(deps.db, tx, { id: signUpEventId, type: "user.signed_up", userId: uid }, now);
    return { firstSignUp: !profileSnap.exists, friendsSyncedBefore: Boolean(previousSync?.friendsSyncedAt) };
  });

  const newFriendIds: string[] = [];
  if (friendUids) {
    for (let start = 0; start < friendUids.length; start += FRIEND_CHUNK) {
      newFriendIds.push(...(await befriendChunk(deps.db, uid, friendUids.slice(start, start + FRIEND_CHUNK), now)));
    }
    if (!friendsSyncedBefore) await markFriendsSynced(deps.db, uid, friendUids, now);
  }

  logger.info("facebook sync finished", { uid, status: complete ? "complete" : "incomplete", firstSignUp, newFriends: newFriendIds.length });
  return { status: complete ? "complete" : "incomplete", profileSynced: profile !== null, friendsSynced: friendUids !== null, newFriendIds, firstSignUp };
}

async function verifyToken(deps: FacebookDeps, accessToken: string, facebookId: string, uid: string): Promise<void> {
  let info;
  try {
    info = await deps.graph.inspectToken(accessToken);
  } catch (error) {
    if (error instanceof GraphError && error.kind === "token") {
      throw new DomainError("facebook_token_invalid");
    }
    logger.warn("facebook token check unavailable", { uid, error: error instanceof Error ? error.message : String(error) });
    throw new DomainError("facebook_unavailable");
  }
  if (!info.isValid) {
    throw new DomainError("facebook_token_invalid");
  }
  if (info.appId !== deps.appId) {
    logger.warn("facebook token for another app", { uid });
    throw new DomainError("facebook_token_wrong_app");
  }
  if (info.userId !== facebookId) {
    logger.warn("facebook token of another user", { uid });
    throw new DomainError("facebook_token_wrong_user");
  }
}

async function attempt<T>(what: string, uid: string, load: () => Promise<T>): Promise<T | null> {
  try {
    return await load();
  } catch (error) {
    if (!(error instanceof GraphError)) throw error;
    logger.warn("facebook sync step failed; sync incomplete", { uid, step: what, kind: error.kind, error: error.message });
    return null;
  }
}

/** Firebase uids of the given Facebook ids (Auth is the source of truth for the provider link), minus the caller. */
async function uidsForFacebookIds(auth: Auth, facebookIds: string[], self: string): Promise<string[]> {
  const uids: string[] = [];
  for (let start = 0; start < facebookIds.length; start += 100) {
    const identifiers: UserIdentifier[] = facebookIds.slice(start, start + 100).map((providerUid) => ({ providerId: FACEBOOK_PROVIDER, providerUid }));
    const { users } = await auth.getUsers(identifiers);
    uids.push(...users.map((found) => found.uid).filter((found) => found !== self));
  }
  return [...new Set(uids)].sort();
}

/** Creates the missing friendships (both sides, one transaction) with users who have a profile; returns the new ones. */
async function befriendChunk(db: Firestore, uid: string, candidates: string[], now: Date): Promise<string[]> {
  return db.runTransaction(async (tx) => {
    const profiles = await tx.getAll(...candidates.map((candidate) => profileRef(db, candidate)));
    const edges = await tx.getAll(...candidates.map((candidate) => friendRef(db, uid, candidate)));
    const added: string[] = [];
    candidates.forEach((candidate, index) => {
      if (!profiles[index]?.exists || edges[index]?.exists) return;
      tx.set(friendRef(db, uid, candidate), { friendId: candidate, source: "facebook", since: now });
      tx.set(friendRef(db, candidate, uid), { friendId: uid, source: "facebook", since: now });
      added.push(candidate);
    });
    return added;
  });
}

/** First successful friend sync: stamp it and publish `friend.joined` (deterministic id, so at most once). */
async function markFriendsSynced(db: Firestore, uid: string, friendUids: string[], now: Date): Promise<void> {
  await db.runTransaction(async (tx) => {
    const account = await tx.get(accountRef(db, uid));
    if ((account.get("facebookSync") as { friendsSyncedAt?: unknown } | undefined)?.friendsSyncedAt) return;
    const friends = await tx.get(friendRef(db, uid, "_").parent);
    const friendIds = friends.docs.map((friend) => friend.id).filter((id) => friendUids.includes(id));
    tx.update(accountRef(db, uid), { "facebookSync.friendsSyncedAt": now });
    addToOutbox(db, tx, { id: `friend.joined:${uid}`, type: "friend.joined", userId: uid, friendIds }, now);
  });
}

/** Facebook's `MM/DD/YYYY`, `MM/DD` or `YYYY` as ISO 8601 (`YYYY-MM-DD`, `--MM-DD`, `YYYY`); anything else null. */
export function normalizeBirthday(raw: string | null): string | null {
  if (!raw) return null;
  const full = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(raw);
  if (full) return `${full[3]}-${full[1]}-${full[2]}`;
  const dayMonth = /^(\d{2})\/(\d{2})$/.exec(raw);
  if (dayMonth) return `--${dayMonth[1]}-${dayMonth[2]}`;
  if (/^\d{4}$/.test(raw)) return raw;
  return null;
}
