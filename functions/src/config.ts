import { defineString } from "firebase-functions/params";

/** Every function runs here: close to our Czech and European users. */
export const REGION = "europe-west1";

/** Shown by the status endpoint; set at deploy time (e.g. the git commit). */
export const releaseVersion = defineString("RELEASE_VERSION", {
  default: "dev",
  description: "Release identifier reported by the status endpoint (e.g. a git commit hash).",
});
