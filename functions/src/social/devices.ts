import type { Auth } from "firebase-admin/auth";
import type { Firestore } from "firebase-admin/firestore";
import * as logger from "firebase-functions/logger";
import { HttpsError } from "firebase-functions/v2/https";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { DEVICE_PLATFORMS } from "../model/social";
import { devicesRef } from "./refs";

export interface DevicesDeps {
  db: Firestore;
  auth: Auth;
  clock: Clock;
}

const deviceId = z.string().regex(/^[A-Za-z0-9_-]{8,128}$/, "must be 8-128 characters of A-Z, a-z, 0-9, '_' or '-'");

export const registerDeviceInput = z.object({
  deviceId,
  platform: z.enum(DEVICE_PLATFORMS),
  token: z.string().min(1).max(4096),
  locale: z.string().min(2).max(35),
  appVersion: z.string().min(1).max(64),
});
export const unregisterDeviceInput = z.object({ deviceId });

/**
 * Refuses callers whose sign-in predates a "sign out everywhere": their ID token stays valid up to an hour after
 * the refresh tokens were revoked, and must not re-register a device in that hour.
 */
export async function requireLiveSession(auth: Auth, uid: string, authTimeSeconds: number): Promise<void> {
  const user = await auth.getUser(uid);
  const validSince = user.tokensValidAfterTime ? Date.parse(user.tokensValidAfterTime) : 0;
  if (authTimeSeconds * 1000 < validSince) throw new HttpsError("unauthenticated", "This session was signed out. Sign in again.");
}

/**
 * Registers or refreshes this install's push token. A token is bound to one account: any other registration of the
 * same token (another user signed in on this device before) is removed in the same batch, so a signed-out account
 * never receives pushes here.
 */
export async function registerDevice(
  deps: DevicesDeps,
  uid: string,
  authTimeSeconds: number,
  input: z.infer<typeof registerDeviceInput>,
): Promise<{ deviceId: string }> {
  await requireLiveSession(deps.auth, uid, authTimeSeconds);
  const ref = devicesRef(deps.db, uid).doc(input.deviceId);
  const sameToken = await deps.db.collectionGroup("devices").where("token", "==", input.token).get();
  const batch = deps.db.batch();
  let removed = 0;
  for (const doc of sameToken.docs) {
    if (doc.ref.path === ref.path || doc.ref.parent.parent?.parent.id !== "users") continue;
    batch.delete(doc.ref);
    removed += 1;
  }
  batch.set(ref, { platform: input.platform, token: input.token, locale: input.locale, appVersion: input.appVersion, lastSeenAt: deps.clock.now() });
  await batch.commit();
  logger.info("device registered", { uid, deviceId: input.deviceId, platform: input.platform, removedElsewhere: removed });
  return { deviceId: input.deviceId };
}

/** Sign-out on one device: its registration goes. Safe to retry. */
export async function unregisterDevice(deps: Pick<DevicesDeps, "db">, uid: string, input: z.infer<typeof unregisterDeviceInput>): Promise<{ ok: true }> {
  await devicesRef(deps.db, uid).doc(input.deviceId).delete();
  return { ok: true };
}

/** Deletes every device registration of the user; returns how many there were. */
export async function deleteAllDevices(db: Firestore, uid: string): Promise<number> {
  const devices = await devicesRef(db, uid).get();
  await Promise.all(devices.docs.map((device) => device.ref.delete()));
  return devices.size;
}

/** Revokes every refresh token of the user (all sessions end within the ID token's hour) and removes all devices. */
export async function signOutEverywhere(deps: Pick<DevicesDeps, "db" | "auth">, uid: string): Promise<{ devicesRemoved: number }> {
  await deps.auth.revokeRefreshTokens(uid);
  const devicesRemoved = await deleteAllDevices(deps.db, uid);
  logger.info("signed out everywhere", { uid, devicesRemoved });
  return { devicesRemoved };
}
