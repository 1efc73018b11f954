// Dev script: plays a donation's payment on the `npm start` fake Stripe and delivers the signed webhook event to the
// emulated stripeWebhook, so a donation made from an app (or the demo) completes locally.
//
//   cd functions && npx tsx devtools/send-webhook.ts [donationId] [succeed|fail|cancel|processing|refund|dispute]
//
// Without a donationId it takes the newest pending donation. ELATEME_PORT_OFFSET shifts the ports like
// scripts/emulators.mjs does. The event is signed with the SDK's test-header helper and the webhook secret of
// functions/.secret.local, exactly as the tests do.
import { initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import type { StripeEventObject } from "./fakes/stripe";
import { localWebhookSecret, signPayload } from "./fakes/stripe";
import { localSuiteHost, localSuiteProject, REGION } from "./support/emulators";

const ACTIONS = ["succeed", "fail", "cancel", "processing", "refund", "dispute"] as const;

async function main(): Promise<number> {
  const offset = Number.parseInt(process.env.ELATEME_PORT_OFFSET ?? "0", 10) || 0;
  const project = process.env.GCLOUD_PROJECT ?? localSuiteProject();
  process.env.FIRESTORE_EMULATOR_HOST ??= localSuiteHost("firestore");
  const stripeUrl = process.env.ELATEME_FAKE_STRIPE_URL ?? `http://127.0.0.1:${12111 + offset}`;
  const webhookUrl = `http://${localSuiteHost("functions")}/${project}/${REGION}/stripeWebhook`;
  const [donationArg, actionArg = "succeed"] = process.argv.slice(2);
  const action = ACTIONS.find((candidate) => candidate === actionArg);
  if (!action) {
    console.error(`Unknown action '${actionArg}'; use one of ${ACTIONS.join(", ")}`);
    return 2;
  }

  const db = getFirestore(initializeApp({ projectId: project }));
  const snap = donationArg
    ? await db.collection("donations").doc(donationArg).get()
    : (await db.collection("donations").where("status", "==", "pending").orderBy("createdAt", "desc").limit(1).get()).docs[0];
  const paymentIntentId: unknown = snap?.get("paymentIntentId");
  if (!snap?.exists || typeof paymentIntentId !== "string") {
    console.error(donationArg ? `Donation ${donationArg} not found or has no PaymentIntent yet.` : "No pending donation found.");
    return 1;
  }

  const played = await fetch(`${stripeUrl}/_fake/payment_intents/${paymentIntentId}/${action}`, { method: "POST" });
  if (!played.ok) {
    console.error(`The fake Stripe refused: HTTP ${played.status} ${await played.text()}`);
    return 1;
  }
  const event = (await played.json()) as StripeEventObject;
  const payload = JSON.stringify(event, null, 2);
  const response = await fetch(webhookUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signPayload(payload, localWebhookSecret()) },
    body: payload,
  });
  console.log(`${event.type} ${event.id} for donation ${snap.id} → HTTP ${response.status} ${await response.text()}`);
  return response.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
