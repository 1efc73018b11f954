import { getMessaging } from "firebase-admin/messaging";
import type { CloudEvent } from "firebase-functions/v2";
import type { CallableRequest } from "firebase-functions/v2/https";
import type { MessagePublishedData } from "firebase-functions/v2/pubsub";
import type { Request as TaskRequest } from "firebase-functions/v2/tasks";
import { adminTaskEnqueuer } from "../lib/tasks";
import { digestTaskPayload, foldDonationDigest as foldDonationDigestOp } from "../notifications/digest";
import { markNotificationsRead as markNotificationsReadOp } from "../notifications/inbox";
import { pushTransportFor } from "../notifications/transport";
import { handleDomainEventMessage } from "../notifications/worker";
import { baseDeps } from "./deps";
import { awaitScheduleTime } from "./tasks";
import { requireAuth } from "./errors";

/** Notifications (docs/notifications.md): the Pub/Sub worker and the inbox. */
const pushTransport = pushTransportFor(process.env, () => getMessaging());

/** The notification worker's dependencies (also the ops command that re-drives its dead letters). */
export const notificationDeps = () => ({ ...baseDeps(), push: pushTransport, tasks: adminTaskEnqueuer });

export async function notifyOnDomainEvent(event: CloudEvent<MessagePublishedData>): Promise<void> {
  const { messageId, data, attributes } = event.data.message;
  await handleDomainEventMessage(notificationDeps(), { messageId, data, attributes });
}

export const markNotificationsRead = (request: CallableRequest) => markNotificationsReadOp(baseDeps(), requireAuth(request), request.data);

/** The donation digest fold (one per recipient, wish and second): markers → the digest inbox item, and its push. */
export async function foldDonationDigest(request: TaskRequest): Promise<void> {
  const { uid, wishId } = digestTaskPayload.parse(request.data);
  await awaitScheduleTime(request, "foldDonationDigest");
  await foldDonationDigestOp(notificationDeps(), uid, wishId);
}
