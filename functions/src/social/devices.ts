import type { Auth } from "firebase-admin/auth";
import type { Firestore, WriteBatch } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError } from "../lib/errors";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import { DEVICE_PLATFORMS, pushTargetsDoc } from "../model/social";
import type { PushTarget } from "../model/social";
import { devicesRef, removeDevice } from "../store/social";

export interface DevicesDeps {
  db: Firestore;
  auth: Auth;
  clock: Clock;
}

const deviceId = idSchema.regex(/^[A-Za-z0-9_-]{8,128}$/, "device_id_format");

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
  if (authTimeSeconds * 1000 < validSince) throw new DomainError("session_signed_out");
}

/**
 * Every device write goes through these two, which keep `users/{uid}/private/push` (the worker's copy of the push
 * targets) in step with `users/{uid}/devices/*` in the same batch or transaction.
 */
function setDevice(db: Firestore, batch: WriteBatch, uid: string, deviceId: string, device: PushTarget & { appVersion: string; lastSeenAt: Date }): void {
  batch.set(devicesRef(db, uid).doc(deviceId), device);
  const target: PushTarget = { platform: device.platform, token: device.token, locale: device.locale };
  batch.set(db.doc(pushTargetsDoc(uid)), { devices: { [deviceId]: target } }, { merge: true });
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
    const owner = doc.ref.parent.parent;
    if (doc.ref.path === ref.path || !owner || owner.parent.id !== "users") continue;
    removeDevice(deps.db, batch, owner.id, doc.id);
    removed += 1;
  }
  setDevice(deps.db, batch, uid, input.deviceId, {
    platform: input.platform,
    token: input.token,
    locale: input.locale,
    appVersion: input.appVersion,
    lastSeenAt: deps.clock.now(),
  });
  await batch.commit();
  logger.info("device registered", { uid, deviceId: input.deviceId, platform: input.platform, removedElsewhere: removed });
  return { deviceId: input.deviceId };
}

/** Sign-out on one device: its registration goes. Safe to retry. */
export async function unregisterDevice(deps: Pick<DevicesDeps, "db">, uid: string, input: z.infer<typeof unregisterDeviceInput>): Promise<{ ok: true }> {
  const batch = deps.db.batch();
  removeDevice(deps.db, batch, uid, input.deviceId);
  await batch.commit();
  return { ok: true };
}

/** Deletes every device registration of the user; returns how many there were. */
export async function deleteAllDevices(db: Firestore, uid: string): Promise<number> {
  const devices = await devicesRef(db, uid).get();
  const batch = db.batch();
  for (const device of devices.docs) batch.delete(device.ref);
  batch.delete(db.doc(pushTargetsDoc(uid)));
  await batch.commit();
  return devices.size;
}

/** Revokes every refresh token of the user (all sessions end within the ID token's hour) and removes all devices. */
export async function signOutEverywhere(deps: Pick<DevicesDeps, "db" | "auth">, uid: string): Promise<{ devicesRemoved: number }> {
  await deps.auth.revokeRefreshTokens(uid);
  const devicesRemoved = await deleteAllDevices(deps.db, uid);
  logger.info("signed out everywhere", { uid, devicesRemoved });
  return { devicesRemoved };
}
