import type { RunningServer } from "./http";
import { portOf } from "./http";
import { seedDemoGraph, startGraphFake } from "./graph";
import { startFakeFcm } from "./fcm";
import { startFakeStripe } from "./stripe";
import { startFakeBtcpay } from "./btcpay";
import type { FakeBtcpay } from "./btcpay";
import type { FakeStripe } from "./stripe";
import { startFakeFio } from "./fio";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * Starts every local fake on the port its ELATEME_FAKE_*_URL names. Each domain registers its fake here.
 * Returns the running servers (for `npm start`); tests keep typed handles through devtools/support/fakes.ts.
 */
export async function startAllFakes(env: NodeJS.ProcessEnv): Promise<(RunningServer & { label: string })[]> {
  const running: (RunningServer & { label: string })[] = [];
  const offset = Number.parseInt(env.ELATEME_PORT_OFFSET ?? "0", 10) || 0;
  // identity and social graph: the fake Facebook Graph API, seeded with the demo accounts of docs/social.md.
  const graph = await startGraphFake(portOf(env.ELATEME_FAKE_GRAPH_URL, 12112));
  seedDemoGraph(graph);
  running.push({ ...graph, label: "fake Facebook Graph" });
  // notifications: the fake FCM v1 send API; every push it receives is printed to the `npm start` log.
  const fcm = await startFakeFcm(portOf(env.ELATEME_FAKE_FCM_URL, 12113), {
    log: (line) => console.log(line),
    deviceOf: (token) => deviceOfToken(`http://127.0.0.1:${8080 + offset}`, token),
  });
  running.push({ ...fcm, label: "fake FCM" });
  // donations and payments: the fake Stripe API (functions/devtools/send-webhook.ts plays a payment's webhook).
  const stripe = await startFakeStripe(env);
  // The seeded demo's payments (emulator-data/fake-stripe.json, written by devtools/seed.ts).
  const snapshot = path.resolve(__dirname, "..", "..", "..", "emulator-data", "fake-stripe.json");
  if (existsSync(snapshot)) stripe.stripe.restore(JSON.parse(readFileSync(snapshot, "utf8")) as Parameters<FakeStripe["restore"]>[0]);
  running.push({ ...stripe, label: "fake Stripe" });
  // Like a Stripe account with an account webhook endpoint and a Connect one: every event the fake emits (a refund, a
  // transfer) reaches stripeWebhook; Connect events (account.updated after onboarding) reach stripeConnectWebhook.
  const functionsPort = 5001 + offset;
  const functionsBase = `http://127.0.0.1:${functionsPort}/demo-elateme/europe-west1`;
  deliverEventsContinuously(stripe.stripe, `${functionsBase}/stripeWebhook`, `${functionsBase}/stripeConnectWebhook`);
  // the bitcoin rail: the fake BTCPay Server; like a store with one webhook, every delivery reaches btcpayWebhook.
  const btcpay = await startFakeBtcpay(env);
  const btcpaySnapshot = path.resolve(__dirname, "..", "..", "..", "emulator-data", "fake-btcpay.json");
  if (existsSync(btcpaySnapshot)) btcpay.btcpay.restore(JSON.parse(readFileSync(btcpaySnapshot, "utf8")) as Parameters<FakeBtcpay["restore"]>[0]);
  running.push({ ...btcpay, label: "fake BTCPay Server" });
  deliverBtcpayContinuously(btcpay.btcpay, `${functionsBase}/btcpayWebhook`);
  // bank transfers: the fake Fio banka API the poller downloads from (money arrives with POST /__fake/incoming).
  const fio = await startFakeFio(portOf(env.ELATEME_FAKE_FIO_URL, 12115));
  running.push({ ...fio, label: "fake Fio banka" });
  return running;
}

/** The device registration (`users/{uid}/devices/{deviceId}`) holding an FCM token, read from the Firestore emulator. */
export async function deviceOfToken(firestoreUrl: string, token: string): Promise<{ uid: string; deviceId: string } | null> {
  const response = await fetch(`${firestoreUrl}/v1/projects/demo-elateme/databases/(default)/documents:runQuery`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer owner" },
    body: JSON.stringify({
      structuredQuery: {
        from: [{ collectionId: "devices", allDescendants: true }],
        where: { fieldFilter: { field: { fieldPath: "token" }, op: "EQUAL", value: { stringValue: token } } },
        limit: 1,
      },
    }),
  });
  const rows = (await response.json()) as { document?: { name: string } }[];
  const match = /\/users\/([^/]+)\/devices\/([^/]+)$/.exec(rows.find((row) => row.document)?.document?.name ?? "");
  return match?.[1] && match[2] ? { uid: match[1], deviceId: match[2] } : null;
}

/** Delivers each new event of the fake Stripe to its webhook URL, polling twice a second (npm start only). */
function deliverEventsContinuously(stripe: FakeStripe, webhookUrl: string, connectWebhookUrl: string): void {
  const delivered = new Set(stripe.events.map((event) => event.id));
  const timer = setInterval(() => {
    for (const event of stripe.events.filter((candidate) => !delivered.has(candidate.id))) {
      delivered.add(event.id);
      const url = event.account ? connectWebhookUrl : webhookUrl;
      stripe.deliver(url, event).then(
        (response) => console.log(`[fake stripe] ${event.type} ${event.id} → ${url.split("/").pop() ?? url} HTTP ${response.status}`),
        (error: unknown) => console.log(`[fake stripe] could not deliver ${event.id}: ${String(error)}`),
      );
    }
  }, 500);
  timer.unref();
}

/** Delivers each new webhook of the fake BTCPay to btcpayWebhook, twice a second (npm start only). */
function deliverBtcpayContinuously(btcpay: FakeBtcpay, webhookUrl: string): void {
  const timer = setInterval(() => {
    for (const delivery of btcpay.takeDeliveries()) {
      btcpay.deliver(webhookUrl, delivery).then(
        (response) => console.log(`[fake btcpay] ${String(delivery.body.type)} → btcpayWebhook HTTP ${response.status}`),
        (error: unknown) => console.log(`[fake btcpay] could not deliver ${String(delivery.body.deliveryId)}: ${String(error)}`),
      );
    }
  }, 500);
  timer.unref();
}
