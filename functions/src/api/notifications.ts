import { getMessaging } from "firebase-admin/messaging";
import type { CloudEvent } from "firebase-functions/v2";
import type { CallableRequest } from "firebase-functions/v2/https";
import type { MessagePublishedData } from "firebase-functions/v2/pubsub";
import { markNotificationsRead as markNotificationsReadOp } from "../notifications/inbox";
import { pushTransportFor } from "../notifications/transport";
import { handleDomainEventMessage } from "../notifications/worker";
import { baseDeps } from "./deps";
import { requireAuth } from "./errors";

/** Notifications (docs/notifications.md): the Pub/Sub worker and the inbox. */
const pushTransport = pushTransportFor(process.env, () => getMessaging());

/** The notification worker's dependencies (also the ops command that re-drives its dead letters). */
export const notificationDeps = () => ({ ...baseDeps(), push: pushTransport });

export async function notifyOnDomainEvent(event: CloudEvent<MessagePublishedData>): Promise<void> {
  const { messageId, data, attributes } = event.data.message;
  await handleDomainEventMessage(notificationDeps(), { messageId, data, attributes });
}

export const markNotificationsRead = (request: CallableRequest) => markNotificationsReadOp(baseDeps(), requireAuth(request), request.data);
