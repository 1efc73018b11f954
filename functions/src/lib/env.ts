import type { AppOptions } from "firebase-admin/app";

/** True inside the Firebase emulator suite (the Functions emulator sets FUNCTIONS_EMULATOR). */
export function isEmulator(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FUNCTIONS_EMULATOR === "true" || env.FIRESTORE_EMULATOR_HOST !== undefined;
}

/**
 * Admin SDK options. In the emulator we name a service account up front: otherwise firebase-admin's task-queue
 * client asks the GCE metadata server (169.254.169.254) for one, which is a network call the emulator must not make.
 */
export function adminAppOptions(env: NodeJS.ProcessEnv = process.env): AppOptions | undefined {
  return isEmulator(env) ? { serviceAccountId: `emulated@${env.GCLOUD_PROJECT ?? "demo-elateme"}.iam.gserviceaccount.com` } : undefined;
}
