// The one door to Cloud Logging: structured logs through firebase-functions' logger (JSON lines Cloud Logging reads).
// Domain modules log through this module, so none of them depends on firebase-functions itself
// (docs/architecture.md: the `log` room is the only place below the api that may import it).
import * as logger from "firebase-functions/logger";

export { logger };
