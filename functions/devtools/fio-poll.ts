// One run of the bank-transfer poller (src/settlement/fio.ts) against the local suite of `npm start`: the emulator
// runs no schedules, so this plays `fioPoll` once (docs/donations.md, "Local development"). Honours
// ELATEME_PORT_OFFSET. Money arrives on the fake Fio with `POST /__fake/incoming` first; a second run within the
// bank's 30 seconds answers `too_soon` (the lease), as production would.
//
//   cd functions && ELATEME_PORT_OFFSET=${ELATEME_PORT_OFFSET:-0} npx tsx devtools/fio-poll.ts
import { initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { systemClock } from "../src/lib/clock";
import { adminTaskEnqueuer } from "../src/lib/tasks";
import { processPaymentEvent } from "../src/donations/ledger";
import { FioRestClient } from "../src/payments/fio";
import { runFioPoll } from "../src/settlement/fio";
import { FAKE_FIO_TOKEN } from "./fakes/fio";
import { localSuiteHost, localSuiteProject } from "./support/emulators";

async function main(): Promise<void> {
  const offset = Number.parseInt(process.env.ELATEME_PORT_OFFSET ?? "0", 10) || 0;
  process.env.FIRESTORE_EMULATOR_HOST = localSuiteHost("firestore");
  process.env.CLOUD_TASKS_EMULATOR_HOST = localSuiteHost("tasks");
  const projectId = localSuiteProject();
  initializeApp({ projectId, serviceAccountId: `emulated@${projectId}.iam.gserviceaccount.com` });
  const ledger = { db: getFirestore(), clock: systemClock, tasks: adminTaskEnqueuer };
  const report = await runFioPoll({
    ...ledger,
    bank: new FioRestClient(`http://127.0.0.1:${12115 + offset}`, FAKE_FIO_TOKEN),
    account: { accountNumber: "2801234567" },
    applyPaymentEvent: (event) => processPaymentEvent(ledger, event),
  });
  console.log(JSON.stringify(report));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
