// Ops command line: `npm run ops -- <command> …` from the repository root (docs/operations.md, "Granting admin").
//
//   npm run ops -- grant-admin <email|uid> --reason "<why>" [--operator <who>] [--project <real-project-id>]
//   npm run ops -- revoke-admin <email|uid> --reason "<why>" [--operator <who>] [--project <real-project-id>]
//
// Without --project it acts on the local emulator suite (`npm start`, honouring ELATEME_PORT_OFFSET). With
// --project it acts on that real Firebase project through Application Default Credentials
// (`gcloud auth application-default login`), and only then: a real project is never reached by default.
import { initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { systemClock } from "../src/lib/clock";
import { setAdminClaim } from "../src/ops/admins";

const COMMANDS = { "grant-admin": true, "revoke-admin": false } as const;
const USAGE = 'usage: npm run ops -- grant-admin|revoke-admin <email|uid> --reason "<why>" [--operator <who>] [--project <id>]';

interface Parsed {
  command: keyof typeof COMMANDS;
  who: string;
  reason: string;
  operator: string;
  project: string | undefined;
}

function parse(argv: string[]): Parsed | string {
  const [command, who, ...rest] = argv;
  if (!command || !(command in COMMANDS)) return `Unknown command '${command ?? ""}'.`;
  if (!who || who.startsWith("--")) return "Name the user: an email or a uid.";
  const options = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i];
    const value = rest[i + 1];
    if (!key?.startsWith("--") || value === undefined) return `Unexpected argument '${key ?? ""}'.`;
    options.set(key.slice(2), value);
  }
  const unknown = [...options.keys()].filter((key) => !["reason", "operator", "project"].includes(key));
  if (unknown.length > 0) return `Unknown option --${unknown[0] ?? ""}.`;
  const reason = options.get("reason");
  if (!reason) return "--reason is required: every ops action is audited with why.";
  return {
    command: command as keyof typeof COMMANDS,
    who,
    reason,
    operator: options.get("operator") ?? `${os.userInfo().username}@${os.hostname()}`,
    project: options.get("project"),
  };
}

/** The emulator suite's hosts, shifted like scripts/emulators.mjs shifts them, and the demo project id. */
function useEmulators(): string {
  const root = path.resolve(__dirname, "..", "..");
  const offset = Number.parseInt(process.env.ELATEME_PORT_OFFSET ?? "0", 10) || 0;
  const emulators = (JSON.parse(readFileSync(path.join(root, "firebase.json"), "utf8")) as { emulators: Record<string, { host: string; port: number }> }).emulators;
  const host = (name: string) => `${emulators[name]?.host ?? "127.0.0.1"}:${(emulators[name]?.port ?? 0) + offset}`;
  process.env.FIREBASE_AUTH_EMULATOR_HOST = host("auth");
  process.env.FIRESTORE_EMULATOR_HOST = host("firestore");
  const rc = JSON.parse(readFileSync(path.join(root, ".firebaserc"), "utf8")) as { projects: { default: string } };
  return rc.projects.default;
}

async function main(): Promise<number> {
  const parsed = parse(process.argv.slice(2));
  if (typeof parsed === "string") {
    console.error(`${parsed}\n${USAGE}`);
    return 2;
  }
  let projectId: string;
  if (parsed.project) {
    // A real project: make sure no emulator variable from the shell redirects the Admin SDK.
    delete process.env.FIREBASE_AUTH_EMULATOR_HOST;
    delete process.env.FIRESTORE_EMULATOR_HOST;
    projectId = parsed.project;
  } else {
    projectId = useEmulators();
  }
  const app = initializeApp({ projectId });
  const change = await setAdminClaim(
    { auth: getAuth(app), db: getFirestore(app), clock: systemClock },
    parsed.who,
    COMMANDS[parsed.command],
    `operator:${parsed.operator}`,
    parsed.reason,
  );
  console.log(`${projectId}: ${change.uid}${change.email ? ` (${change.email})` : ""}: admin ${change.result}. The user's token carries it after the next sign-in or token refresh (at most 1 h).`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
