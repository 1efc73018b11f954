// Rules matrix for the notifications inbox `users/{uid}/notifications/{id}` (docs/notifications.md):
// roles (owner, another signed-in user, an admin, signed out) × operations (get, list, create, update, delete),
// allowed and denied asserted. The owner may read (lists carry a limit ≤ 50); nothing is written from a client (the
// markNotificationsRead callable marks items read). Also the unread count `users/{uid}/private/inbox`: owner-read only.
import assert from "node:assert/strict";
import { assertFails, assertSucceeds } from "@firebase/rules-unit-testing";
import type { RulesTestContext } from "@firebase/rules-unit-testing";
import { Timestamp, collection, deleteDoc, doc, getCountFromServer, getDoc, getDocs, limit, orderBy, query, setDoc, startAfter, updateDoc, where } from "firebase/firestore";
import type { Firestore } from "firebase/firestore";
import { rulesEnv, seed } from "../helpers/rules";

const OWNER = "nina";
const UNREAD = `users/${OWNER}/notifications/donation.received:d1`;
const READ = `users/${OWNER}/notifications/friend.joined:x`;

function item(read: boolean, createdAt: number): Record<string, unknown> {
  return {
    type: "donation.received",
    category: "donations",
    eventId: "donation.received:d1",
    titleKey: "notif_donation_received_anonymous_title",
    bodyKey: "notif_donation_received_anonymous_body",
    args: ["CZK 200.00", "Bike"],
    title: "New donation",
    body: "Someone gave CZK 200.00 to “Bike”",
    locale: "en",
    data: { wishId: "w1", donationId: "d1" },
    read,
    createdAt: Timestamp.fromMillis(createdAt),
    push: { state: "sent", leaseUntil: null, attempts: 1, devices: 1, delivered: 1, removedTokens: 0, lastError: null, finishedAt: null },
  };
}

type Role = "owner" | "other" | "admin" | "signed-out";

async function as(role: Role): Promise<Firestore> {
  const env = await rulesEnv();
  let context: RulesTestContext;
  if (role === "owner") context = env.authenticatedContext(OWNER);
  else if (role === "other") context = env.authenticatedContext("oskar");
  else if (role === "admin") context = env.authenticatedContext("ada", { admin: true });
  else context = env.unauthenticatedContext();
  return context.firestore() as unknown as Firestore;
}

const inbox = (db: Firestore) => collection(db, `users/${OWNER}/notifications`);

describe("rules: notifications inbox", () => {
  beforeEach(async () => {
    await seed({ [UNREAD]: item(false, 2_000), [READ]: item(true, 1_000) });
  });

  describe("get", () => {
    it("the owner may read an item", async () => {
      await assertSucceeds(getDoc(doc(await as("owner"), UNREAD)));
    });
    for (const role of ["other", "admin", "signed-out"] as const) {
      it(`${role} may not read it`, async () => {
        await assertFails(getDoc(doc(await as(role), UNREAD)));
      });
    }
  });

  describe("list", () => {
    it("the owner may list newest first with a limit ≤ 50, and page on with startAfter", async () => {
      const db = await as("owner");
      const first = await assertSucceeds(getDocs(query(inbox(db), orderBy("createdAt", "desc"), limit(1))));
      await assertSucceeds(getDocs(query(inbox(db), orderBy("createdAt", "desc"), startAfter(first.docs[0]), limit(50))));
      await assertSucceeds(getDocs(query(inbox(db), where("read", "==", false), limit(50))));
    });
    it("the owner may not list without a limit, or with a limit above 50", async () => {
      const db = await as("owner");
      await assertFails(getDocs(query(inbox(db), orderBy("createdAt", "desc"))));
      await assertFails(getDocs(query(inbox(db), orderBy("createdAt", "desc"), limit(51))));
    });
    it("count(): the owner may count with a limit ≤ 50 (e.g. \"50+ unread\"), not without one (docs/notifications.md)", async () => {
      const db = await as("owner");
      const counted = await assertSucceeds(getCountFromServer(query(inbox(db), where("read", "==", false), limit(50))));
      assert.equal(typeof counted.data().count, "number");
      await assertFails(getCountFromServer(query(inbox(db), where("read", "==", false))));
      await assertFails(getCountFromServer(query(inbox(db), limit(51))));
      await assertFails(getCountFromServer(query(inbox(await as("other")), limit(10))));
    });
    for (const role of ["other", "admin", "signed-out"] as const) {
      it(`${role} may not list someone's inbox`, async () => {
        await assertFails(getDocs(query(inbox(await as(role)), orderBy("createdAt", "desc"), limit(10))));
      });
    }
  });

  describe("create", () => {
    for (const role of ["owner", "other", "admin", "signed-out"] as const) {
      it(`${role} may not create an item`, async () => {
        await assertFails(setDoc(doc(await as(role), `users/${OWNER}/notifications/forged`), item(false, 3_000)));
      });
    }
  });

  describe("update", () => {
    it("the owner may not mark an item read directly (the markNotificationsRead callable does, keeping the count)", async () => {
      await assertFails(updateDoc(doc(await as("owner"), UNREAD), { read: true }));
    });
    it("the owner may not mark a read item unread", async () => {
      await assertFails(updateDoc(doc(await as("owner"), READ), { read: false }));
    });
    it("the owner may not change any other field", async () => {
      const db = await as("owner");
      await assertFails(updateDoc(doc(db, UNREAD), { title: "Forged" }));
      await assertFails(updateDoc(doc(db, UNREAD), { "push.state": "failed" }));
    });
    for (const role of ["other", "admin", "signed-out"] as const) {
      it(`${role} may not mark it read`, async () => {
        await assertFails(updateDoc(doc(await as(role), UNREAD), { read: true }));
      });
    }
  });

  describe("delete", () => {
    for (const role of ["owner", "other", "admin", "signed-out"] as const) {
      it(`${role} may not delete an item`, async () => {
        await assertFails(deleteDoc(doc(await as(role), READ)));
      });
    }
  });

  describe("the unread count users/{uid}/private/inbox", () => {
    const COUNTER = `users/${OWNER}/private/inbox`;
    beforeEach(() => seed({ [COUNTER]: { unread: 1 } }));

    it("get: the owner only", async () => {
      await assertSucceeds(getDoc(doc(await as("owner"), COUNTER)));
      for (const role of ["other", "admin", "signed-out"] as const) await assertFails(getDoc(doc(await as(role), COUNTER)));
    });
    it("list: the owner lists their own private documents; nobody else", async () => {
      await assertSucceeds(getDocs(collection(await as("owner"), `users/${OWNER}/private`)));
      for (const role of ["other", "admin", "signed-out"] as const) await assertFails(getDocs(collection(await as(role), `users/${OWNER}/private`)));
    });
    it("create, update, delete: nobody, not even the owner (server-owned counter)", async () => {
      for (const role of ["owner", "other", "admin", "signed-out"] as const) {
        const db = await as(role);
        await assertFails(updateDoc(doc(db, COUNTER), { unread: 0 }));
        await assertFails(deleteDoc(doc(db, COUNTER)));
        await assertFails(setDoc(doc(db, `users/${OWNER}/private/inbox2`), { unread: 0 }));
      }
    });
  });

  describe("server-only digest and delivery bookkeeping (digest state, donation markers, event runs)", () => {
    const CLOSED = {
      [`users/${OWNER}/donationDigests/w1`]: { seq: 1, currentId: "donations_w1_1", lastPushAt: null },
      [`users/${OWNER}/donationDigests/w1/digestDonations/d1`]: { donationId: "d1", donorId: null, amount: 100, folded: false },
      [`wishes/w1/feedDonations/d1`]: { donationId: "d1", donorId: null, amount: 0, folded: false },
      [`wishes/w1/feedDigests/current`]: { seq: 1, version: 1, published: 1 },
      [`notificationRuns/friend.joined:x`]: { eventId: "friend.joined:x", attempts: 1 },
    };
    beforeEach(() => seed(CLOSED));

    for (const path of Object.keys(CLOSED)) {
      it(`${path.split("/").slice(-2, -1)[0] ?? path}: closed to every role, the owner included (get, list, create, update, delete)`, async () => {
        const collectionPath = path.split("/").slice(0, -1).join("/");
        for (const role of ["owner", "other", "admin", "signed-out"] as const) {
          const db = await as(role);
          await assertFails(getDoc(doc(db, path)));
          await assertFails(getDocs(query(collection(db, collectionPath), limit(10))));
          await assertFails(setDoc(doc(db, `${path}-new`), { folded: true }));
          await assertFails(updateDoc(doc(db, path), { folded: true }));
          await assertFails(deleteDoc(doc(db, path)));
        }
      });
    }
  });
});
