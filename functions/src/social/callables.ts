import type { Auth } from "firebase-admin/auth";
import type { Firestore } from "firebase-admin/firestore";
import type { CallableRequest } from "firebase-functions/v2/https";
import { parseInput, requireAuth } from "../lib/errors";
import type { Clock } from "../lib/clock";
import { deleteAccount } from "./account";
import { registerDevice, registerDeviceInput, signOutEverywhere, unregisterDevice, unregisterDeviceInput } from "./devices";
import { syncFacebookInput, syncFacebookProfile } from "./facebook";
import type { GraphClient } from "./graph-client";
import {
  acceptFriendRequest,
  cancelFriendRequest,
  declineFriendRequest,
  friendInput,
  fromUserInput,
  sendFriendRequest,
  toUserInput,
  unfriend,
} from "./friends";
import { createGroup, createGroupInput, deleteGroup, deleteGroupInput, updateGroup, updateGroupInput } from "./groups";

/**
 * The social domain's callables (docs/social.md): each checks auth first, then validates its input (invalid-argument
 * naming the field), then runs the domain operation. index.ts wraps them in onCall + callable().
 */
export interface SocialDeps {
  db: Firestore;
  auth: Auth;
  clock: Clock;
}

type Request = Pick<CallableRequest, "auth" | "data">;

export const socialCallables = {
  syncFacebookProfile: (deps: SocialDeps & { graph: GraphClient; appId: string }, request: Request) => {
    const uid = requireAuth(request);
    return syncFacebookProfile(deps, uid, parseInput(syncFacebookInput, request.data));
  },
  sendFriendRequest: (deps: SocialDeps, request: Request) => {
    const uid = requireAuth(request);
    return sendFriendRequest(deps, uid, parseInput(toUserInput, request.data));
  },
  acceptFriendRequest: (deps: SocialDeps, request: Request) => {
    const uid = requireAuth(request);
    return acceptFriendRequest(deps, uid, parseInput(fromUserInput, request.data));
  },
  declineFriendRequest: (deps: SocialDeps, request: Request) => {
    const uid = requireAuth(request);
    return declineFriendRequest(deps, uid, parseInput(fromUserInput, request.data));
  },
  cancelFriendRequest: (deps: SocialDeps, request: Request) => {
    const uid = requireAuth(request);
    return cancelFriendRequest(deps, uid, parseInput(toUserInput, request.data));
  },
  unfriend: (deps: SocialDeps, request: Request) => {
    const uid = requireAuth(request);
    return unfriend(deps, uid, parseInput(friendInput, request.data));
  },
  createGroup: (deps: SocialDeps, request: Request) => {
    const uid = requireAuth(request);
    return createGroup(deps, uid, parseInput(createGroupInput, request.data));
  },
  updateGroup: (deps: SocialDeps, request: Request) => {
    const uid = requireAuth(request);
    return updateGroup(deps, uid, parseInput(updateGroupInput, request.data));
  },
  deleteGroup: (deps: SocialDeps, request: Request) => {
    const uid = requireAuth(request);
    return deleteGroup(deps, uid, parseInput(deleteGroupInput, request.data));
  },
  registerDevice: (deps: SocialDeps, request: Request) => {
    const uid = requireAuth(request);
    const authTime = request.auth?.token.auth_time ?? 0;
    return registerDevice(deps, uid, authTime, parseInput(registerDeviceInput, request.data));
  },
  unregisterDevice: (deps: SocialDeps, request: Request) => {
    const uid = requireAuth(request);
    return unregisterDevice(deps, uid, parseInput(unregisterDeviceInput, request.data));
  },
  signOutEverywhere: (deps: SocialDeps, request: Request) => signOutEverywhere(deps, requireAuth(request)),
  deleteAccount: (deps: SocialDeps, request: Request) => deleteAccount(deps, requireAuth(request)),
};
