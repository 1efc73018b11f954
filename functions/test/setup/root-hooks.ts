// Mocha root hooks for the emulator run (`npm test`): every test starts from empty Firestore and Auth.
import { closeAllClients } from "../../devtools/support/clients";
import { emulatorsRunning } from "../../devtools/support/emulators";
import { clearAll, setBackgroundTriggers } from "../../devtools/support/reset";
import { startFcmFake, startStripeFake, stopFcmFake, stopStripeFake } from "../../devtools/support/fakes";
import { startBtcpayFake, startFioFake, startGraphFakeForTests, stopBtcpayFake, stopFioFake, stopGraphFakeForTests } from "../../devtools/support/fakes";
import { saveRulesCoverage } from "../helpers/rules-coverage";

let rulesTestsRan = false;

export const mochaHooks = {
  async beforeAll() {
    // notifications: the fake FCM that the emulated functions push to.
    if (emulatorsRunning()) await startFcmFake();
    // donations and payments: the fake Stripe API that the emulated functions call.
    if (emulatorsRunning()) await startStripeFake();
    // identity and social graph: the fake Facebook Graph API.
    if (emulatorsRunning()) await startGraphFakeForTests();
    // the bitcoin rail: the fake BTCPay Server.
    if (emulatorsRunning()) await startBtcpayFake();
    // bank transfers: the fake Fio banka API.
    if (emulatorsRunning()) await startFioFake();
  },
  async afterAll() {
    await stopFcmFake();
    await stopStripeFake();
    await stopGraphFakeForTests();
    await stopBtcpayFake();
    await stopFioFake();
    // wishes/rules: keep the Firestore rules coverage report of the run (coverage/firestore-rules.{json,html}), from
    // the run that has the rules tests (npm test runs in shards: scripts/test-shards.mjs).
    if (emulatorsRunning() && rulesTestsRan) await saveRulesCoverage();
  },
  async beforeEach(this: Mocha.Context) {
    if (!emulatorsRunning()) return;
    // Security-rules tests test the rules alone: the emulated triggers are off for them. Otherwise a trigger fired by
    // the previous test's data (e.g. wishDeleted, fired when the reset below deletes a wish) can run late and change
    // the documents a rules test has just seeded. Off before the reset, so the reset's deletes fire nothing. The rules
    // tests run last (.mocharc.all.json), so `npm test` switches once; switching back on (a focused run with a rules
    // file before an integration file) reloads the triggers under new emulator keys.
    const rulesTest = /[\\/]test[\\/]rules[\\/]/.test(this.currentTest?.file ?? "");
    rulesTestsRan ||= rulesTest;
    if (rulesTest) await setBackgroundTriggers(false);
    await clearAll();
    if (!rulesTest) await setBackgroundTriggers(true);
  },
  async afterEach() {
    await closeAllClients();
  },
};
