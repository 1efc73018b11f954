import { getApps, initializeApp } from "firebase-admin/app";
import { setGlobalOptions } from "firebase-functions/v2";
import { REGION } from "../config";
import { adminAppOptions } from "../lib/env";

// Imported first by index.ts, so the Admin SDK and the global options exist before any trigger is declared. The
// default app is made once: a process that already made it (the tests, which load index.ts beside the Admin SDK to
// drive the deployed exports) keeps its own.
if (!getApps().length) initializeApp(adminAppOptions());
setGlobalOptions({ region: REGION, maxInstances: 20 });
