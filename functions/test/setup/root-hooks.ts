// Mocha root hooks for the emulator run (`npm test`): every test starts from empty Firestore and Auth.
import { closeAllClients } from "../helpers/clients";
import { emulatorsRunning } from "../helpers/emulators";
import { clearAll } from "../helpers/reset";

export const mochaHooks = {
  async beforeEach(this: Mocha.Context) {
    if (emulatorsRunning()) await clearAll();
  },
  async afterEach() {
    await closeAllClients();
  },
};
