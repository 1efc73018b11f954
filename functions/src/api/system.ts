import type { Request } from "firebase-functions/v2/https";
import type { FirestoreEvent, QueryDocumentSnapshot } from "firebase-functions/v2/firestore";
import type { Request as TaskRequest } from "firebase-functions/v2/tasks";
import { pubSubEventBus, relayOutboxEvent } from "../events/publisher";
import { isEmulator } from "../lib/env";
import { adminTaskEnqueuer } from "../lib/tasks";
import { onSmokePingCreated, runSmokeTask, smokeTaskPayload } from "../system/smoke";
import { checkStatus } from "../system/status";
import { baseDeps } from "./deps";
import type { HttpResponse } from "./http";
import { releaseVersion } from "./params";

/** The outbox collection and the domain-events topic the triggers of index.ts listen on. */
export { DOMAIN_EVENTS_TOPIC, OUTBOX } from "../events/schema";

/** The status endpoint: 200 when Firestore answers, else 503 (docs/operations.md). */
export async function status(_req: Request, res: HttpResponse): Promise<void> {
  const report = await checkStatus({ ...baseDeps(), version: releaseVersion.value(), emulator: isEmulator() });
  res.status(report.firestore.ok ? 200 : 503).json(report);
}

export async function smokePing(event: FirestoreEvent<QueryDocumentSnapshot | undefined, { pingId: string }>): Promise<void> {
  await onSmokePingCreated({ ...baseDeps(), tasks: adminTaskEnqueuer }, event.params.pingId);
}

export async function smokeTask(request: TaskRequest): Promise<void> {
  await runSmokeTask(baseDeps(), smokeTaskPayload.parse(request.data));
}

/** The outbox relay: events/{id} -> Pub/Sub "domain-events". */
export async function relayDomainEvent(event: FirestoreEvent<QueryDocumentSnapshot | undefined, { eventDocId: string }>): Promise<void> {
  const deps = baseDeps();
  await relayOutboxEvent({ db: deps.db, bus: pubSubEventBus, now: deps.clock.now() }, event.params.eventDocId);
}
