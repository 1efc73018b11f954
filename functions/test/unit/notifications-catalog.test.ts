import assert from "node:assert/strict";
import { LOCALES, MESSAGE_KEYS, formatMoney, pickLocale, render, template, toLocale } from "../../src/notifications/catalog";

const placeholders = (text: string) => [...text.matchAll(/\{(\d+)\}/g)].map((m) => Number(m[1])).sort();

describe("notifications catalog (en + cs)", () => {
  it("every message exists in every locale with the same placeholders, numbered from 0 without gaps", () => {
    for (const key of MESSAGE_KEYS) {
      const en = template(key, "en");
      for (const locale of LOCALES) {
        const t = template(key, locale);
        assert.ok(t.title.length > 0 && t.body.length > 0, `${key}/${locale} has text`);
        assert.deepEqual(placeholders(t.body), placeholders(en.body), `${key}/${locale} body placeholders`);
        assert.deepEqual(placeholders(t.title), placeholders(en.title), `${key}/${locale} title placeholders`);
      }
      // Title and body share one positional argument list.
      const used = [...new Set([...placeholders(en.title), ...placeholders(en.body)])].sort();
      assert.deepEqual(used, used.map((_, i) => i), `${key} placeholders are 0..n-1`);
    }
  });

  it("a donation digest counts people and lists names with each locale's plural forms", () => {
    const digest = (people: number, names: string[]) => [{ people }, { amount: 430_000, currency: "CZK" }, { text: "Kolo" }, { names, more: people - names.length }];
    const en = render("donation_digest", digest(12, ["Ann", "Bob", "Cyd"]), "en");
    assert.equal(en.title, "12 friends chipped in");
    assert.equal(en.body, "CZK\u00a04,300.00 in total for “Kolo”: Ann, Bob, Cyd and 9 more");
    assert.equal(render("donation_digest", digest(1, ["Ann"]), "en").title, "1 friend chipped in");
    assert.equal(render("donation_digest", digest(2, []), "en").body, "CZK\u00a04,300.00 in total for “Kolo”: all anonymous");
    const cs = (people: number, names: string[]) => render("donation_digest", digest(people, names), "cs");
    assert.equal(cs(1, ["Ann"]).title, "1 přítel přispěl");
    assert.equal(cs(3, ["Ann", "Bob"]).title, "3 přátelé přispěli");
    assert.equal(cs(3, ["Ann", "Bob"]).body, "Celkem 4\u00a0300,00\u00a0Kč na „Kolo“: Ann, Bob a 1 další");
    assert.equal(cs(12, ["Ann"]).title, "12 přátel přispělo");
    assert.equal(cs(12, ["Ann"]).body, "Celkem 4\u00a0300,00\u00a0Kč na „Kolo“: Ann a 11 dalších");
    assert.equal(cs(2, []).body, "Celkem 4\u00a0300,00\u00a0Kč na „Kolo“: všichni anonymně");
  });

  it("renders keys, args and text; money is formatted per locale", () => {
    const args = [{ text: "Jana" }, { amount: 150_000, currency: "CZK" }, { text: "Kolo" }];
    assert.deepEqual(render("donation_received_named", args, "en"), {
      titleKey: "notif_donation_received_named_title",
      bodyKey: "notif_donation_received_named_body",
      args: ["Jana", "CZK\u00a01,500.00", "Kolo"],
      title: "New donation",
      body: "Jana gave CZK\u00a01,500.00 to “Kolo”",
      locale: "en",
    });
    const cs = render("donation_received_named", args, "cs");
    assert.equal(cs.title, "Nový příspěvek");
    assert.equal(cs.body, "Jana přispěl(a) 1\u00a0500,00\u00a0Kč na „Kolo“");
    assert.deepEqual(cs.args, ["Jana", "1\u00a0500,00\u00a0Kč", "Kolo"]);
  });

  it("formats each currency with its exponent", () => {
    assert.equal(formatMoney(1250, "EUR", "en"), "EUR\u00a012.50");
    assert.equal(formatMoney(1250, "EUR", "cs"), "12,50\u00a0€");
  });

  it("picks the device locale, then the account locale, then English", () => {
    assert.equal(toLocale("cs-CZ"), "cs");
    assert.equal(toLocale("CS_cz"), "cs");
    assert.equal(toLocale("de-DE"), undefined);
    assert.equal(pickLocale("cs-CZ", "en"), "cs");
    assert.equal(pickLocale("de-DE", "cs"), "cs");
    assert.equal(pickLocale(undefined, null), "en");
    assert.equal(pickLocale("fr", "de"), "en");
  });
});
