import { processPaymentEvent } from "../donations/ledger";
import { FioRestClient, fioBaseUrl } from "../payments/fio";
import { runFioPoll } from "../settlement/fio";
import { logger } from "../lib/log";
import { taskDeps } from "./deps";
import { fioAccountNumber, fioApiUrl, fioToken } from "./params";

/** The every-minute poller of the Fio account (docs/operations.md "Bank transfers (Fio)"). */
export async function fioPoll(): Promise<void> {
  const deps = taskDeps();
  const report = await runFioPoll({
    db: deps.db,
    clock: deps.clock,
    bank: new FioRestClient(fioBaseUrl(fioApiUrl.value()), fioToken.value()),
    account: { accountNumber: fioAccountNumber.value() },
    applyPaymentEvent: (event) => processPaymentEvent(deps, event),
  });
  if (report.call || report.applied > 0 || report.expired > 0) logger.info("fio poll", { ...report });
}
