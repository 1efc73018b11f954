// Ops command line: `npm run ops -- <command> …` from the repository root (docs/operations.md, "Granting admin").
//
//   npm run ops -- grant-admin <email|uid> --reason "<why>" [--operator <who>] [--project <real-project-id>]
//   npm run ops -- revoke-admin <email|uid> --reason "<why>" [--operator <who>] [--project <real-project-id>]
//   npm run ops -- apply-monitoring --project <real-project-id> [--channel <notification channel>]... [--dry-run]
//
// Without --project it acts on the local emulator suite (`npm start`, honouring ELATEME_PORT_OFFSET). With
// --project it acts on that real Firebase project through Application Default Credentials
// (`gcloud auth application-default login`), and only then: a real project is never reached by default.
import { applicationDefault, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";
import os from "node:os";
import { systemClock } from "../src/lib/clock";
import { setAdminClaim } from "../src/ops/admins";
import { applyMonitoring, planMonitoring } from "./monitoring";
import { localSuiteHost, localSuiteProject } from "./support/emulators";

const ADMIN_COMMANDS = { "grant-admin": true, "revoke-admin": false } as const;
const USAGE = [
  'usage: npm run ops -- grant-admin|revoke-admin <email|uid> --reason "<why>" [--operator <who>] [--project <id>]',
  "       npm run ops -- apply-monitoring --project <id> [--channel projects/<id>/notificationChannels/<n>]... [--dry-run]",
].join("\n");

type Options = Map<string, string[]>;

/** `<command> [positional] --key value… --flag`; `--dry-run` is the only flag. */
function parse(argv: string[]): { command: string; positional: string | undefined; options: Options } | string {
  const [command, ...rest] = argv;
  if (!command) return "Name a command.";
  const positional = rest[0] && !rest[0].startsWith("--") ? rest.shift() : undefined;
  const options: Options = new Map();
  while (rest.length > 0) {
    const key = rest.shift() ?? "";
    if (!key.startsWith("--")) return `Unexpected argument '${key}'.`;
    if (key === "--dry-run") {
      options.set("dry-run", ["true"]);
      continue;
    }
    const value = rest.shift();
    if (value === undefined) return `${key} needs a value.`;
    options.set(key.slice(2), [...(options.get(key.slice(2)) ?? []), value]);
  }
  return { command, positional, options };
}

const one = (options: Options, key: string) => options.get(key)?.at(-1);

function checkOptions(options: Options, allowed: string[]): string | undefined {
  const unknown = [...options.keys()].find((key) => !allowed.includes(key));
  return unknown === undefined ? undefined : `Unknown option --${unknown}.`;
}

/** The local emulator suite (ports shifted like scripts/emulators.mjs shifts them) and the demo project id. */
function useEmulators(): string {
  process.env.FIREBASE_AUTH_EMULATOR_HOST = localSuiteHost("auth");
  process.env.FIRESTORE_EMULATOR_HOST = localSuiteHost("firestore");
  return localSuiteProject();
}

/** A real project: make sure no emulator variable from the shell redirects the Admin SDK. */
function useRealProject(project: string): string {
  delete process.env.FIREBASE_AUTH_EMULATOR_HOST;
  delete process.env.FIRESTORE_EMULATOR_HOST;
  return project;
}

async function adminClaim(command: keyof typeof ADMIN_COMMANDS, who: string | undefined, options: Options): Promise<string> {
  if (!who) throw new UsageError("Name the user: an email or a uid.");
  const bad = checkOptions(options, ["reason", "operator", "project"]);
  if (bad) throw new UsageError(bad);
  const reason = one(options, "reason");
  if (!reason) throw new UsageError("--reason is required: every ops action is audited with why.");
  const project = one(options, "project");
  const projectId = project ? useRealProject(project) : useEmulators();
  const app = initializeApp({ projectId });
  const operator = one(options, "operator") ?? `${os.userInfo().username}@${os.hostname()}`;
  const change = await setAdminClaim({ auth: getAuth(app), db: getFirestore(app), clock: systemClock }, who, ADMIN_COMMANDS[command], `operator:${operator}`, reason);
  return `${projectId}: ${change.uid}${change.email ? ` (${change.email})` : ""}: admin ${change.result}. The user's token carries it after the next sign-in or token refresh (at most 1 h).`;
}

async function monitoring(options: Options): Promise<string> {
  const bad = checkOptions(options, ["project", "channel", "dry-run"]);
  if (bad) throw new UsageError(bad);
  const project = one(options, "project");
  if (!project) throw new UsageError("--project is required: alerts live in a real project (the emulators have none).");
  const plan = planMonitoring(project, options.get("channel") ?? []);
  if (options.has("dry-run")) return plan.map((request) => `${request.what}: look up ${request.lookup}, then ${request.create.method} ${request.create.url} or update`).join("\n");
  const token = await applicationDefault().getAccessToken();
  return (await applyMonitoring(plan, token.access_token)).join("\n");
}

class UsageError extends Error {}

async function main(): Promise<number> {
  const parsed = parse(process.argv.slice(2));
  try {
    if (typeof parsed === "string") throw new UsageError(parsed);
    const { command, positional, options } = parsed;
    if (command === "grant-admin" || command === "revoke-admin") console.log(await adminClaim(command, positional, options));
    else if (command === "apply-monitoring") console.log(await monitoring(options));
    else throw new UsageError(`Unknown command '${command}'.`);
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
