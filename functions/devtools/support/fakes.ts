// Typed handles on the local fakes that the root hook starts in-process for the test run (see devtools/fakes/).
// Each domain adds its fake here and starts it in test/setup/root-hooks.ts on the port its ELATEME_FAKE_*_URL names.
import type { FakeFcm } from "../fakes/fcm";
import { startFakeFcm } from "../fakes/fcm";
import { portOf } from "../fakes/http";
import type { FakeStripe, RunningFakeStripe } from "../fakes/stripe";
import { startFakeStripe } from "../fakes/stripe";
import type { GraphFake } from "../fakes/graph";
import type { FakeBtcpay, RunningFakeBtcpay } from "../fakes/btcpay";
import { startFakeBtcpay } from "../fakes/btcpay";
import { startGraphFake } from "../fakes/graph";
import type { FakeFio } from "../fakes/fio";
import { startFakeFio } from "../fakes/fio";

// ---- notifications: the fake FCM (the emulated functions push to it through ELATEME_FAKE_FCM_URL) ----
let fcm: FakeFcm | undefined;

export async function startFcmFake(): Promise<void> {
  fcm ??= await startFakeFcm(portOf(process.env.ELATEME_FAKE_FCM_URL, 12113));
}

export async function stopFcmFake(): Promise<void> {
  await fcm?.close();
  fcm = undefined;
}

/** The running fake FCM: `.sent`, `.sentTo(token)`, `.failToken(token, "UNREGISTERED")`, `.reset()`. */
export function fakeFcm(): FakeFcm {
  if (!fcm) throw new Error("The fake FCM is not running: run the tests through the emulators (root hook).");
  return fcm;
}

// ---- donations and payments: the fake Stripe API (the emulated functions call it through ELATEME_FAKE_STRIPE_URL) ----
let stripe: RunningFakeStripe | undefined;

export async function startStripeFake(): Promise<void> {
  stripe ??= await startFakeStripe(process.env);
}

export async function stopStripeFake(): Promise<void> {
  await stripe?.close();
  stripe = undefined;
}

/** The running fake Stripe: its objects, `.calls`, `.failNext(n)`, `.succeed(pi)`…, `.deliver(url, event)`, `.reset()`. */
export function fakeStripe(): FakeStripe {
  if (!stripe) throw new Error("The fake Stripe is not running: run the tests through the emulators (root hook).");
  return stripe.stripe;
}

// ---- identity and social graph: the fake Facebook Graph API (the emulated functions call ELATEME_FAKE_GRAPH_URL) ----
let graph: GraphFake | undefined;

export async function startGraphFakeForTests(): Promise<void> {
  graph ??= await startGraphFake(portOf(process.env.ELATEME_FAKE_GRAPH_URL, 12112));
}

export async function stopGraphFakeForTests(): Promise<void> {
  await graph?.close();
  graph = undefined;
}

/** The running fake Graph API: `.addUser`, `.issueToken`, `.befriend`, `.failNext`, `.setPageSize`, `.reset()`. */
export function fakeGraph(): GraphFake {
  if (!graph) throw new Error("The fake Graph API is not running: run the tests through the emulators (root hook).");
  return graph;
}

// ---- the bitcoin rail: the fake BTCPay Server (the emulated functions call ELATEME_FAKE_BTCPAY_URL) ----
let btcpay: RunningFakeBtcpay | undefined;

export async function startBtcpayFake(): Promise<void> {
  btcpay ??= await startFakeBtcpay(process.env);
}

export async function stopBtcpayFake(): Promise<void> {
  await btcpay?.close();
  btcpay = undefined;
}

/** The running fake BTCPay: `.pay`, `.confirm`, `.expire`, `.claim`, `.takeDeliveries()`, `.down`, `.reset()`. */
export function fakeBtcpay(): FakeBtcpay {
  if (!btcpay) throw new Error("The fake BTCPay is not running: run the tests through the emulators (root hook).");
  return btcpay.btcpay;
}

// ---- bank transfers: the fake Fio banka API (the poller calls ELATEME_FAKE_FIO_URL; tests in-process call its url) ----
let fio: FakeFio | undefined;

export async function startFioFake(): Promise<void> {
  fio ??= await startFakeFio(portOf(process.env.ELATEME_FAKE_FIO_URL, 12115));
}

export async function stopFioFake(): Promise<void> {
  await fio?.close();
  fio = undefined;
}

/** The running fake Fio: `.addIncoming`, `.advance(ms)`, `.executeOrders()`, `.setDown()`, `.orders`, `.calls`, `.reset()`. */
export function fakeFio(): FakeFio {
  if (!fio) throw new Error("The fake Fio is not running: run the tests through the emulators (root hook).");
  return fio;
}
