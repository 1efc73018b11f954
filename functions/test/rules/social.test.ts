// Rules matrix for the identity and social graph collections (docs/social.md): roles × get/list/create/update/delete,
// allowed and denied cases both asserted. Everything is server-written; clients read their own data, a profile is
// readable by its friends and request parties, the owner edits only `settings`; device registrations change only
// through the device callables (no client delete: unregisterDevice removes the device and its push target together).
import { assertFails, assertSucceeds } from "@firebase/rules-unit-testing";
import { collection, deleteDoc, doc, getDoc, getDocs, query, setDoc, updateDoc, where } from "firebase/firestore";
import type { Firestore, Query } from "firebase/firestore";
import { rulesEnv, seed } from "../helpers/rules";

type Role = "self" | "friend" | "stranger" | "requester" | "signed-out";
type Op = "get" | "list" | "create" | "update" | "delete";
const ROLE_UID: Record<Exclude<Role, "signed-out">, string> = { self: "ann", friend: "bob", stranger: "eve", requester: "rita" };
const ROLES: Role[] = ["self", "friend", "stranger", "requester", "signed-out"];
const now = new Date("2026-11-23T10:00:00Z");
const settings = { locale: "en", mutedCategories: [], showDonationsInFeed: true };

const DOCS: Record<string, Record<string, unknown>> = {
  "users/ann": { displayName: "Ann", photoUrl: null, facebookLinked: true, createdAt: now, updatedAt: now },
  "users/bob": { displayName: "Bob", photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now },
  "users/rita": { displayName: "Rita", photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now },
  "users/ann/private/account": { firstName: "Ann", lastName: "Lee", email: "a@x.cz", birthday: null, facebookId: "fb-ann", settings, facebookSync: null },
  "users/ann/friends/bob": { friendId: "bob", source: "app", since: now },
  "users/bob/friends/ann": { friendId: "ann", source: "app", since: now },
  "users/ann/groups/g1": { name: "Family", memberIds: ["bob"], createdAt: now, updatedAt: now },
  "users/ann/devices/d1": { platform: "ios", token: "t1", locale: "en", appVersion: "1.0", lastSeenAt: now },
  "friendRequests/rita_ann": { from: "rita", to: "ann", createdAt: now },
  // Ads attribution's queue (docs/analytics.md): server only.
  "users/ann/adsEvents/e1": { eventId: "user.signed_up:ann", eventName: "CompleteRegistration", uid: "ann", state: "sent" },
};

interface Target {
  path: string;
  /** Names a second row for the same document (another update). */
  label?: string;
  list: (db: Firestore, uid: string) => Query;
  update: Record<string, unknown>;
  allowed: Partial<Record<Role, Op[]>>;
}

const TARGETS: Target[] = [
  {
    path: "users/ann",
    list: (db) => collection(db, "users"),
    update: { displayName: "Hacked" },
    allowed: { self: ["get"], friend: ["get"], requester: ["get"] },
  },
  {
    path: "users/ann/private/account",
    list: (db) => collection(db, "users/ann/private"),
    update: { settings: { locale: "cs", mutedCategories: ["comments", "payments"], showDonationsInFeed: false } },
    allowed: { self: ["get", "list", "update"] },
  },
  {
    // Ads consent (docs/analytics.md): the owner opts in or out; nobody else reads or writes it.
    path: "users/ann/private/account",
    label: "settings.adsConsent",
    list: (db) => collection(db, "users/ann/private"),
    update: { "settings.adsConsent": true },
    allowed: { self: ["get", "list", "update"] },
  },
  {
    path: "users/ann/adsEvents/e1",
    list: (db) => collection(db, "users/ann/adsEvents"),
    update: { state: "pending" },
    allowed: {},
  },
  {
    path: "users/ann/friends/bob",
    list: (db) => collection(db, "users/ann/friends"),
    update: { source: "facebook" },
    allowed: { self: ["get", "list"] },
  },
  {
    path: "users/ann/groups/g1",
    list: (db) => collection(db, "users/ann/groups"),
    update: { memberIds: ["bob", "eve"] },
    allowed: { self: ["get", "list"] },
  },
  {
    path: "users/ann/devices/d1",
    list: (db) => collection(db, "users/ann/devices"),
    update: { token: "stolen" },
    // No client delete: unregisterDevice removes the device and its push target together.
    allowed: { self: ["get", "list"] },
  },
  {
    // self = the recipient (ann), requester = the sender (rita); the list query carries the constraint the rule checks.
    path: "friendRequests/rita_ann",
    // The sender lists what they sent, everyone else tries to list what ann received.
    list: (db, uid) => query(collection(db, "friendRequests"), uid === "rita" ? where("from", "==", "rita") : where("to", "==", "ann")),
    update: { to: "eve" },
    allowed: { self: ["get", "list"], requester: ["get", "list"] },
  },
];

async function as(role: Role): Promise<Firestore> {
  const env = await rulesEnv();
  if (role === "signed-out") return env.unauthenticatedContext().firestore() as unknown as Firestore;
  return env.authenticatedContext(ROLE_UID[role]).firestore() as unknown as Firestore;
}

async function clear(path: string): Promise<void> {
  const env = await rulesEnv();
  await env.withSecurityRulesDisabled(async (context) => {
    await context.firestore().doc(path).delete();
  });
}

async function check(allowed: boolean, operation: Promise<unknown>): Promise<void> {
  if (allowed) await assertSucceeds(operation);
  else await assertFails(operation);
}

describe("rules: identity and social graph", () => {
  beforeEach(async () => {
    await seed(DOCS);
  });

  for (const target of TARGETS) {
    for (const role of ROLES) {
      const ops = target.allowed[role] ?? [];
      it(`${target.path}${target.label ? ` (${target.label})` : ""} as ${role}: allowed [${ops.join(", ") || "nothing"}], every other operation denied`, async () => {
        const db = await as(role);
        const uid = role === "signed-out" ? "nobody" : ROLE_UID[role];
        const ref = doc(db, target.path);
        await check(ops.includes("get"), getDoc(ref));
        await check(ops.includes("list"), getDocs(target.list(db, uid)));
        await check(ops.includes("update"), updateDoc(ref, target.update));
        await check(ops.includes("delete"), deleteDoc(ref));
        await clear(target.path);
        await check(ops.includes("create"), setDoc(ref, DOCS[target.path] ?? {}));
      });
    }
  }

  it("a friend request shows each party the other's profile: the recipient reads the sender's too", async () => {
    await assertSucceeds(getDoc(doc(await as("self"), "users/rita")));
    await assertFails(getDoc(doc(await as("friend"), "users/rita")));
  });

  it("a request shows profiles to its own two parties only, matched by from/to: x_y → z is not x → y_z (both are friendRequests/x_y_z)", async () => {
    // Request ids are `{from}_{to}`, which is ambiguous once a uid contains '_'. The rule must not read the id alone.
    await seed({
      ...Object.fromEntries(["x", "y_z", "x_y", "z"].map((uid) => [`users/${uid}`, { displayName: uid, photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now }])),
      "friendRequests/x_y_z": { from: "x_y", to: "z", createdAt: now },
    });
    const env = await rulesEnv();
    const db = (uid: string) => env.authenticatedContext(uid).firestore() as unknown as Firestore;
    await assertSucceeds(getDoc(doc(db("x_y"), "users/z")));
    await assertSucceeds(getDoc(doc(db("z"), "users/x_y")));
    await assertFails(getDoc(doc(db("x"), "users/y_z")));
    await assertFails(getDoc(doc(db("y_z"), "users/x")));
  });

  it("nobody lists users (there is no directory), not even with a filter", async () => {
    await assertFails(getDocs(query(collection(await as("self"), "users"), where("displayName", "==", "Bob"))));
  });

  it("a stranger cannot read a friend's profile through a friendship that is not theirs", async () => {
    await assertFails(getDoc(doc(await as("stranger"), "users/bob")));
    await assertSucceeds(getDoc(doc(await as("self"), "users/bob")));
  });

  it("friend requests: listing without the from/to constraint is denied, even for a party", async () => {
    await assertFails(getDocs(collection(await as("self"), "friendRequests")));
    await assertFails(getDocs(query(collection(await as("self"), "friendRequests"), where("to", "==", "rita"))));
    await assertSucceeds(getDocs(query(collection(await as("stranger"), "friendRequests"), where("to", "==", "eve"))));
  });

  it("settings: the owner may change only `settings`, and only to a valid shape", async () => {
    const db = await as("self");
    const ref = doc(db, "users/ann/private/account");
    await assertSucceeds(updateDoc(ref, { "settings.locale": "cs-CZ" }));
    await assertFails(updateDoc(ref, { firstName: "Someone" }));
    await assertFails(updateDoc(ref, { facebookId: "fb-other", settings }));
    await assertFails(updateDoc(ref, { "settings.locale": "english" }));
    await assertFails(updateDoc(ref, { "settings.mutedCategories": ["marketing"] }));
    await assertFails(updateDoc(ref, { "settings.showDonationsInFeed": "yes" }));
    await assertFails(updateDoc(ref, { "settings.extra": true }));
    await assertFails(updateDoc(ref, { settings: { locale: "en", mutedCategories: [] } }));
    await assertFails(updateDoc(ref, { settings: "en" }));
    await assertFails(updateDoc(ref, { "settings.locale": 5 }));
    await assertFails(updateDoc(ref, { "settings.mutedCategories": "donations" }));
    await assertFails(updateDoc(ref, { "settings.mutedCategories": ["donations", "comments", "wishes", "friends", "payments", "donations"] }));
  });

  it("settings.adsConsent: the owner opts in and withdraws; only a boolean; settings without it are valid (= off)", async () => {
    const db = await as("self");
    const ref = doc(db, "users/ann/private/account");
    await assertSucceeds(updateDoc(ref, { "settings.adsConsent": true }));
    await assertSucceeds(updateDoc(ref, { "settings.adsConsent": false }));
    await assertSucceeds(updateDoc(ref, { settings: { ...settings, adsConsent: true } }));
    await assertSucceeds(updateDoc(ref, { settings }));
    await assertFails(updateDoc(ref, { "settings.adsConsent": "yes" }));
    await assertFails(updateDoc(ref, { "settings.adsConsent": 1 }));
    await assertFails(updateDoc(doc(await as("friend"), "users/ann/private/account"), { "settings.adsConsent": true }));
  });

  it("settings: only the `account` document of private/ is owner-editable", async () => {
    await seed({ "users/ann/private/other": { settings } });
    await assertFails(updateDoc(doc(await as("self"), "users/ann/private/other"), { "settings.locale": "cs" }));
  });

  it("nobody creates a friendship, group, device or request for themselves either", async () => {
    const db = await as("stranger");
    await assertFails(setDoc(doc(db, "users/eve/friends/ann"), { friendId: "ann", source: "app", since: now }));
    await assertFails(setDoc(doc(db, "users/eve/groups/g"), { name: "x", memberIds: [], createdAt: now, updatedAt: now }));
    await assertFails(setDoc(doc(db, "users/eve/devices/d"), { platform: "ios", token: "t", locale: "en", appVersion: "1", lastSeenAt: now }));
    await assertFails(setDoc(doc(db, "friendRequests/eve_ann"), { from: "eve", to: "ann", createdAt: now }));
    await assertFails(setDoc(doc(db, "users/eve"), { displayName: "Eve", photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now }));
  });
});
