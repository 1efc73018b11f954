import type { Auth } from "firebase-admin/auth";
import type { Firestore } from "firebase-admin/firestore";
import type { CallableRequest } from "firebase-functions/v2/https";
import { z } from "zod";
import type { RateLimitedAction } from "../config";
import { admit } from "../lib/admission";
import { parseInput } from "../lib/errors";
import { logger } from "../lib/log";
import { requireAuth } from "./errors";
import type { Clock } from "../lib/clock";
import type { TaskEnqueuer } from "../lib/tasks";
import type { Request as TaskRequest } from "firebase-functions/v2/tasks";
import { accountSweepPayload, deleteAccount, sweepDeletedAccount as sweepDeletedAccountOp } from "../social/account";
import { registerDevice, registerDeviceInput, signOutEverywhere, unregisterDevice, unregisterDeviceInput } from "../social/devices";
import { syncFacebookInput, syncFacebookProfile } from "../social/facebook";
import type { GraphClient } from "../social/graph-client";
import { graphBaseUrl, sdkGraphClient } from "../social/graph-client";
import { isEmulator } from "../lib/env";
import { socialDeps } from "./deps";
import { facebookAppId, facebookAppSecret } from "./params";
import {
  acceptFriendRequest,
  cancelFriendRequest,
  declineFriendRequest,
  friendInput,
  fromUserInput,
  sendFriendRequest,
  toUserInput,
  unfriend,
} from "../social/friends";
import { createGroup, createGroupInput, deleteGroup, deleteGroupInput, updateGroup, updateGroupInput } from "../social/groups";

/**
 * The social domain's callables (docs/social.md). Each checks auth first, then validates its input (invalid-argument
 * naming the field, before any read), then admits the caller (a completed sign-up, and the action's rate limit:
 * src/lib/admission.ts), then runs the domain operation. index.ts wires them with App Check (src/api/callable.ts).
 * Two callables do not ask for a completed sign-up: syncFacebookProfile (it is the sign-up) and deleteAccount (leaving
 * always works, also for a half-signed-up account and for a retry after a deletion that stopped halfway).
 */
export interface SocialDeps {
  db: Firestore;
  auth: Auth;
  clock: Clock;
  /** deleteAccount schedules its sweep task (src/social/account.ts). */
  tasks: TaskEnqueuer;
}

type Request = Pick<CallableRequest, "auth" | "data">;

/** signOutEverywhere takes no input (whatever the app sends is ignored, as before). */
const noInput = z.unknown();

/** auth → input → admission, then `run` with the caller's uid and the parsed input. */
async function signedUpCall<S extends z.ZodType, T>(
  deps: SocialDeps,
  request: Request,
  schema: S,
  run: (uid: string, input: z.infer<S>) => Promise<T>,
  action?: RateLimitedAction,
): Promise<T> {
  const uid = requireAuth(request);
  const input = parseInput(schema, request.data);
  await admit(deps, uid, action);
  return run(uid, input);
}

const socialCallables = {
  syncFacebookProfile: (deps: SocialDeps & { graph: GraphClient; appId: string }, request: Request) => {
    const uid = requireAuth(request);
    return syncFacebookProfile(deps, uid, parseInput(syncFacebookInput, request.data));
  },
  sendFriendRequest: (deps: SocialDeps, request: Request) =>
    signedUpCall(deps, request, toUserInput, (uid, input) => sendFriendRequest(deps, uid, input), "friendRequests"),
  acceptFriendRequest: (deps: SocialDeps, request: Request) =>
    signedUpCall(deps, request, fromUserInput, (uid, input) => acceptFriendRequest(deps, uid, input)),
  declineFriendRequest: (deps: SocialDeps, request: Request) =>
    signedUpCall(deps, request, fromUserInput, (uid, input) => declineFriendRequest(deps, uid, input)),
  cancelFriendRequest: (deps: SocialDeps, request: Request) =>
    signedUpCall(deps, request, toUserInput, (uid, input) => cancelFriendRequest(deps, uid, input)),
  unfriend: (deps: SocialDeps, request: Request) => signedUpCall(deps, request, friendInput, (uid, input) => unfriend(deps, uid, input)),
  createGroup: (deps: SocialDeps, request: Request) => signedUpCall(deps, request, createGroupInput, (uid, input) => createGroup(deps, uid, input)),
  updateGroup: (deps: SocialDeps, request: Request) => signedUpCall(deps, request, updateGroupInput, (uid, input) => updateGroup(deps, uid, input)),
  deleteGroup: (deps: SocialDeps, request: Request) => signedUpCall(deps, request, deleteGroupInput, (uid, input) => deleteGroup(deps, uid, input)),
  registerDevice: (deps: SocialDeps, request: Request) =>
    signedUpCall(deps, request, registerDeviceInput, (uid, input) => registerDevice(deps, uid, request.auth?.token.auth_time ?? 0, input)),
  unregisterDevice: (deps: SocialDeps, request: Request) =>
    signedUpCall(deps, request, unregisterDeviceInput, (uid, input) => unregisterDevice(deps, uid, input)),
  signOutEverywhere: (deps: SocialDeps, request: Request) => signedUpCall(deps, request, noInput, (uid) => signOutEverywhere(deps, uid)),
  deleteAccount: (deps: SocialDeps, request: Request) => deleteAccount(deps, requireAuth(request)),
};

const facebookDeps = () => ({
  ...socialDeps(),
  appId: facebookAppId.value(),
  graph: sdkGraphClient({ appId: facebookAppId.value(), appSecret: facebookAppSecret.value(), baseUrl: graphBaseUrl(isEmulator()) }),
});

/** The deployed handlers: index.ts declares each as an App Check callable. */
export const socialApi = {
  syncFacebookProfile: (request: Request) => socialCallables.syncFacebookProfile(facebookDeps(), request),
  sendFriendRequest: (request: Request) => socialCallables.sendFriendRequest(socialDeps(), request),
  acceptFriendRequest: (request: Request) => socialCallables.acceptFriendRequest(socialDeps(), request),
  declineFriendRequest: (request: Request) => socialCallables.declineFriendRequest(socialDeps(), request),
  cancelFriendRequest: (request: Request) => socialCallables.cancelFriendRequest(socialDeps(), request),
  unfriend: (request: Request) => socialCallables.unfriend(socialDeps(), request),
  createGroup: (request: Request) => socialCallables.createGroup(socialDeps(), request),
  updateGroup: (request: Request) => socialCallables.updateGroup(socialDeps(), request),
  deleteGroup: (request: Request) => socialCallables.deleteGroup(socialDeps(), request),
  registerDevice: (request: Request) => socialCallables.registerDevice(socialDeps(), request),
  unregisterDevice: (request: Request) => socialCallables.unregisterDevice(socialDeps(), request),
  signOutEverywhere: (request: Request) => socialCallables.signOutEverywhere(socialDeps(), request),
  deleteAccount: (request: Request) => socialCallables.deleteAccount(socialDeps(), request),
};

/** A sweep dispatched more than this before its schedule time was dispatched by the Cloud Tasks emulator. */
const EARLY_SWEEP_TOLERANCE_MS = 60_000;

/** The social domain's task handlers: index.ts declares each on its task queue. */
export const socialTasks = {
  /**
   * The sweep deleteAccount schedules 15 minutes after a deletion (src/social/account.ts). Cloud Tasks holds it until
   * then. The Cloud Tasks emulator dispatches it at once, when nothing can be there to sweep yet, and a local run or a
   * test suite may already reuse the uid: a sweep far before its schedule time is acknowledged and sweeps nothing
   * (docs/operations.md "Account sweeps").
   */
  sweepDeletedAccount: async (request: Pick<TaskRequest, "data" | "scheduledTime">): Promise<void> => {
    const { uid } = accountSweepPayload.parse(request.data);
    const earlyMs = Date.parse(request.scheduledTime) - Date.now();
    if (earlyMs > EARLY_SWEEP_TOLERANCE_MS) {
      logger.info("account sweep dispatched long before its schedule time (the Cloud Tasks emulator); nothing swept", { uid, earlyMs });
      return;
    }
    const { db, auth } = socialDeps();
    await sweepDeletedAccountOp({ db, auth }, uid);
  },
};
