import { z } from "zod";

/** `users/{uid}/friends/{friendUid}`: one side of a mutual friendship; the server always writes both sides together. */
export const friendSchema = z.object({
  friendId: z.string(),
  source: z.enum(["facebook", "app"]),
  since: z.date(),
});
export type Friend = z.infer<typeof friendSchema>;

/** `users/{uid}/groups/{groupId}`: the owner's private list of friends, used to pick a wish's audience. */
export const friendGroupSchema = z.object({
  name: z.string(),
  memberIds: z.array(z.string()),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export const friendsCollection = (uid: string) => `users/${uid}/friends`;
export const groupsCollection = (uid: string) => `users/${uid}/groups`;

/** `users/{uid}`: the public profile. Server-written (profile sync); read by self, friends and request parties. */
export const userProfileSchema = z.object({
  displayName: z.string(),
  photoUrl: z.string().nullable(),
  facebookLinked: z.boolean(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

/** Notification categories a user can mute (read by the notifications and feed domains). */
export const MUTED_CATEGORIES = ["donations", "comments", "wishes", "friends", "payments"] as const;

/** `settings` inside the private account: the only part its owner may write (rules validate the same shape). */
export const accountSettingsSchema = z.object({
  locale: z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/, "language_tag"),
  mutedCategories: z.array(z.enum(MUTED_CATEGORIES)).max(MUTED_CATEGORIES.length),
  showDonationsInFeed: z.boolean(),
  /**
   * Ads attribution (docs/analytics.md): the user's opt-in to sending their sign-up and donations to Meta's
   * Conversions API, hashed. Off by default; absent (accounts from before the field, or an app that does not know it)
   * means off.
   */
  adsConsent: z.boolean().optional(),
});
export type AccountSettings = z.infer<typeof accountSettingsSchema>;

export const DEFAULT_SETTINGS: AccountSettings = { locale: "en", mutedCategories: [], showDonationsInFeed: true, adsConsent: false };

/** Bookkeeping of the last Facebook sync, so the app (and ops) can see when a retry is due. */
export const facebookSyncSchema = z.object({
  status: z.enum(["complete", "incomplete"]),
  lastAttemptAt: z.date(),
  lastCompletedAt: z.date().nullable(),
  /** When the friend list was first synced successfully; `friend.joined` is published exactly then. */
  friendsSyncedAt: z.date().nullable(),
});
export type FacebookSync = z.infer<typeof facebookSyncSchema>;

/**
 * `users/{uid}/private/account`: personal data, owner-only. `birthday` is ISO-8601 as far as Facebook shares it:
 * `YYYY-MM-DD`, `--MM-DD` (no year) or `YYYY` (year only), else null.
 */
export const privateAccountSchema = z.object({
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  email: z.string().nullable(),
  birthday: z.string().nullable(),
  facebookId: z.string().nullable(),
  settings: accountSettingsSchema,
  facebookSync: facebookSyncSchema.nullable(),
});

/** `friendRequests/{from}_{to}`: a pending request; deleted on accept, decline or cancel. */
export const friendRequestSchema = z.object({
  from: z.string(),
  to: z.string(),
  createdAt: z.date(),
});

export const DEVICE_PLATFORMS = ["android", "ios", "web"] as const;

/** `users/{uid}/devices/{deviceId}`: one push registration per app install (read by the notifications domain). */
export const deviceSchema = z.object({
  platform: z.enum(DEVICE_PLATFORMS),
  token: z.string(),
  locale: z.string(),
  appVersion: z.string(),
  lastSeenAt: z.date(),
});
export type Device = z.infer<typeof deviceSchema>;

/**
 * `users/{uid}/private/push`: the user's push targets, one entry per device document (same id). Written in the same
 * batch as every device write (src/social/devices.ts), so the notification worker reads any number of recipients'
 * targets with `getAll` instead of one devices query per recipient.
 */
export const pushTargetSchema = z.object({
  platform: z.enum(DEVICE_PLATFORMS),
  token: z.string(),
  locale: z.string(),
});
export const pushTargetsSchema = z.object({ devices: z.record(z.string(), pushTargetSchema) });
export type PushTarget = z.infer<typeof pushTargetSchema>;

export const USERS = "users";
export const FRIEND_REQUESTS = "friendRequests";
export const userDoc = (uid: string) => `${USERS}/${uid}`;
export const privateAccountDoc = (uid: string) => `${USERS}/${uid}/private/account`;
export const devicesCollection = (uid: string) => `${USERS}/${uid}/devices`;
export const pushTargetsDoc = (uid: string) => `${USERS}/${uid}/private/push`;
export const friendRequestId = (from: string, to: string) => `${from}_${to}`;
