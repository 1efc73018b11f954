import type { CallableRequest } from "firebase-functions/v2/https";
import type { Change, DocumentSnapshot, FirestoreEvent, QueryDocumentSnapshot } from "firebase-functions/v2/firestore";
import type { CloudEvent } from "firebase-functions/v2";
import type { MessagePublishedData } from "firebase-functions/v2/pubsub";
import { onCommentAdded } from "../comments/added";
import { receiveDomainEvent } from "../events/consume";
import { fanOutEvent } from "../feed/worker";
import { feedDigestTaskPayload, foldFeedDigest as foldFeedDigestOp } from "../feed/digest";
import type { Request as TaskRequest } from "firebase-functions/v2/tasks";
import { reportContent, resolveReport } from "../moderation/reports";
import { createWish as createWishOp } from "../wishes/create";
import { cleanUpDeletedWish, deleteWish as deleteWishOp, onFriendDocWritten, onGroupChanged, setWishAudience as setWishAudienceOp } from "../wishes/manage";
import { baseDeps, taskDeps } from "./deps";
import { awaitScheduleTime } from "./tasks";
import { requireAdmin, requireAuth } from "./errors";

/** Wishes, their audience, comments, the feed and reports (docs/wishes.md, docs/operations.md "Reports"). */
export const createWish = (request: CallableRequest) => createWishOp(baseDeps(), requireAuth(request), request.data);
export const deleteWish = (request: CallableRequest) => deleteWishOp(baseDeps(), requireAuth(request), request.data);
export const setWishAudience = (request: CallableRequest) => setWishAudienceOp(baseDeps(), requireAuth(request), request.data);
export const reportContentHandler = (request: CallableRequest) => reportContent(baseDeps(), requireAuth(request), request.data);
export const resolveReportHandler = (request: CallableRequest) => resolveReport(baseDeps(), requireAdmin(request), request.data);

export async function wishDeleted(event: FirestoreEvent<QueryDocumentSnapshot | undefined, { wishId: string }>): Promise<void> {
  await cleanUpDeletedWish(baseDeps().db, event.params.wishId);
}

/** A friendship began or ended; an update of an existing friendship changes no access (wishes/manage.ts). */
export async function friendshipWritten(event: FirestoreEvent<Change<DocumentSnapshot> | undefined, { uid: string; friendId: string }>): Promise<void> {
  await onFriendDocWritten(baseDeps(), event.params.uid, event.params.friendId, {
    before: event.data?.before.exists ?? false,
    after: event.data?.after.exists ?? false,
  });
}

export async function groupWritten(event: FirestoreEvent<Change<DocumentSnapshot> | undefined, { uid: string; groupId: string }>): Promise<void> {
  await onGroupChanged(baseDeps(), event.params.uid, event.params.groupId);
}

export async function commentAdded(event: FirestoreEvent<QueryDocumentSnapshot | undefined, { wishId: string; commentId: string }>): Promise<void> {
  await onCommentAdded(baseDeps(), event.params.wishId, event.params.commentId);
}

export async function feedFanOut(event: CloudEvent<MessagePublishedData>): Promise<void> {
  const deps = taskDeps();
  const { messageId, data, attributes } = event.data.message;
  const received = await receiveDomainEvent({ db: deps.db, now: deps.clock.now() }, "feed", { messageId, data, attributes });
  if (received.ok) await fanOutEvent(deps, received.event);
}

/** The feed's donation digest fold (one per wish per 10 s): markers → one feed item per viewer. */
export async function foldFeedDigest(request: TaskRequest): Promise<void> {
  const { wishId } = feedDigestTaskPayload.parse(request.data);
  await awaitScheduleTime(request, "foldFeedDigest");
  await foldFeedDigestOp(taskDeps(), wishId);
}
