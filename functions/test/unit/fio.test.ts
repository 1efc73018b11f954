// Fio banka (bank transfers): the statement parser, the import file and answer, the SPD "QR Platba" string and the
// pure matcher of movements to variable-symbol references. Pure; no emulator.
import assert from "node:assert/strict";
import { importXml, parseImportResponse, parseStatement, toDecimal, toMinorUnits } from "../../src/payments/fio";
import type { FioMovement } from "../../src/payments/fio";
import { buildSpd, spdText, spdValue } from "../../src/payments/fio-spd";
import { bankDay, decideIncoming, decideOutgoing, startOfBankDay, normaliseVariableSymbol, orderComment } from "../../src/payments/fio-match";
import type { ReferenceView } from "../../src/payments/fio-match";

// A statement as Fio documents it (API Bankovnictví, "Pohyby na účtu" in JSON): columns by number, null when empty.
const statement = {
  accountStatement: {
    info: { accountId: "2801234567", bankId: "2010", currency: "CZK", iban: "CZ1120100000002801234567", idFrom: 21349236442, idTo: 21349236443, idLastDownload: null },
    transactionList: {
      transaction: [
        {
          column22: { value: 21349236442, name: "ID pohybu", id: 22 },
          column0: { value: "2026-11-30+0100", name: "Datum", id: 0 },
          column1: { value: 1480.1, name: "Objem", id: 1 },
          column14: { value: "CZK", name: "Měna", id: 14 },
          column2: { value: "1998087029", name: "Protiúčet", id: 2 },
          column10: { value: "Monika Valková", name: "Název protiúčtu", id: 10 },
          column3: { value: "3030", name: "Kód banky", id: 3 },
          column4: null,
          column5: { value: "0918006226", name: "VS", id: 5 },
          column16: { value: "Na kolo", name: "Zpráva pro příjemce", id: 16 },
          column25: null,
        },
        {
          column22: { value: 21349236443, name: "ID pohybu", id: 22 },
          column0: { value: "2026-11-30+0100", name: "Datum", id: 0 },
          column1: { value: -300, name: "Objem", id: 1 },
          column14: { value: "CZK", name: "Měna", id: 14 },
          column2: { value: "19-2000145399", name: "Protiúčet", id: 2 },
          column3: { value: "0800", name: "Kód banky", id: 3 },
          column25: { value: orderComment("r_d1_0"), name: "Komentář", id: 25 },
        },
      ],
    },
  },
};

const movement = (patch: Partial<FioMovement> = {}): FioMovement => ({
  movementId: "100",
  date: "2026-11-30",
  amount: 50_000,
  currency: "CZK",
  variableSymbol: "1234567890",
  counterAccount: "1998087029",
  bankCode: "3030",
  counterAccountName: "Jana",
  messageForRecipient: null,
  comment: null,
  instructionId: null,
  type: null,
  bic: null,
  ...patch,
});
const reference = (patch: Partial<ReferenceView> = {}): ReferenceView => ({
  donationId: "d1",
  wishId: "w1",
  amount: 50_000,
  currency: "CZK",
  paidByMovementId: null,
  closedAt: null,
  ...patch,
});
const now = new Date("2026-11-30T12:00:00Z");
const openWish = { status: "open", deadline: new Date("2026-12-30T00:00:00Z") };

describe("Fio API adapter", () => {
  it("reads a statement: movement id, signed minor units without float drift, symbols, counter account", () => {
    const parsed = parseStatement(statement);
    assert.equal(parsed.accountId, "2801234567");
    assert.equal(parsed.movements.length, 2);
    const [incoming, outgoing] = parsed.movements;
    assert.deepEqual(
      { id: incoming?.movementId, amount: incoming?.amount, vs: incoming?.variableSymbol, account: incoming?.counterAccount, bank: incoming?.bankCode, date: incoming?.date },
      { id: "21349236442", amount: 148_010, vs: "0918006226", account: "1998087029", bank: "3030", date: "2026-11-30" },
    );
    assert.equal(outgoing?.amount, -30_000);
    assert.equal(outgoing?.comment, orderComment("r_d1_0"));
  });

  it("reads an empty statement (no transactionList rows) and refuses a malformed one", () => {
    assert.deepEqual(parseStatement({ accountStatement: { info: {}, transactionList: { transaction: [] } } }).movements, []);
    assert.throws(() => parseStatement({ nope: 1 }), /did not parse/);
    assert.throws(() => parseStatement({ accountStatement: { info: {}, transactionList: { transaction: [{ column1: { value: 1 } }] } } }), /without id/);
  });

  it("converts amounts exactly both ways", () => {
    assert.equal(toMinorUnits(0.29), 29);
    assert.equal(toMinorUnits("1480.1"), 148_010);
    assert.equal(toMinorUnits(-300), -30_000);
    assert.throws(() => toMinorUnits("1,5"));
    assert.equal(toDecimal(45_000), "450.00");
    assert.equal(toDecimal(5), "0.05");
  });

  it("writes the import file as Fio's DomesticTransaction XML, escaped", () => {
    const xml = importXml([
      { accountFrom: "2801234567", currency: "CZK", amount: 12_345, accountTo: "19-2000145399", bankCode: "0800", variableSymbol: "42", messageForRecipient: "Vrácení <ElateMe> & co", comment: "ELATEME-ORDER-x", date: "2026-11-30" },
    ]);
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?><Import [^>]*><Orders><DomesticTransaction>/);
    assert.match(xml, /<amount>123.45<\/amount><accountTo>19-2000145399<\/accountTo><bankCode>0800<\/bankCode><vs>42<\/vs>/);
    assert.match(xml, /<messageForRecipient>Vrácení &lt;ElateMe&gt; &amp; co<\/messageForRecipient>/);
  });

  it("reads the import answer: accepted with its instruction id, or refused with the bank's messages", () => {
    const ok = parseImportResponse(
      '<?xml version="1.0"?><responseImport><result><errorCode>0</errorCode><idInstruction>105964331</idInstruction><status>ok</status></result>' +
        '<ordersDetails><detail id="1"><messages><message status="ok" errorCode="0">OK</message></messages></detail></ordersDetails></responseImport>',
    );
    assert.deepEqual(ok, { errorCode: 0, idInstruction: "105964331", status: "ok", detail: "OK" });
    const refused = parseImportResponse(
      "<responseImport><result><errorCode>11</errorCode><status>error</status></result><ordersDetails><detail id=\"1\"><messages>" +
        '<message status="error" errorCode="1021">Neplatný účet</message></messages></detail></ordersDetails></responseImport>',
    );
    assert.equal(refused.errorCode, 11);
    assert.equal(refused.idInstruction, null);
    assert.equal(refused.detail, "Neplatný účet");
    assert.throws(() => parseImportResponse("<html>busy</html>"), /without errorCode/);
  });
});

describe("SPD QR Platba string", () => {
  it("matches the specification's example shape", () => {
    // The example of qr-platba.cz / the CBA specification: account, amount with two decimals, currency, symbol, message.
    assert.equal(
      buildSpd({ iban: "CZ28 0600 0000 0001 6854 0115", amount: 45_000, currency: "CZK", variableSymbol: "1234567890", message: "Platba za zboží" }),
      "SPD*1.0*ACC:CZ2806000000000168540115*AM:450.00*CC:CZK*X-VS:1234567890*MSG:PLATBA ZA ZBOZI",
    );
  });

  it("escapes * and %, keeps to the QR alphanumeric set and cuts MSG at 60 and RN at 35 without splitting an escape", () => {
    assert.equal(spdText("Dárek * pro Aničku (100 %) — ať!"), "DAREK * PRO ANICKU 100 % AT");
    assert.equal(spdValue("A*B%C", 60), "A%2AB%25C");
    assert.equal(spdValue("AB*", 4), "AB");
    const spd = buildSpd({ iban: "CZ2806000000000168540115", amount: 1, currency: "CZK", variableSymbol: "7", message: "x".repeat(80), recipientName: "ElateMe s.r.o. ".repeat(5) });
    assert.match(spd, /\*AM:0.01\*/);
    assert.equal(/MSG:([^*]*)/.exec(spd)?.[1]?.length, 60);
    assert.ok((/RN:([^*]*)/.exec(spd)?.[1]?.length ?? 99) <= 35);
    assert.ok(!spd.includes("DT:"), "no due date: a banking app would schedule the payment for it");
  });

  it("refuses what the format cannot carry", () => {
    const base = { iban: "CZ2806000000000168540115", amount: 100, currency: "CZK", variableSymbol: "1" };
    assert.throws(() => buildSpd({ ...base, variableSymbol: "12345678901" }), /variable symbol/);
    assert.throws(() => buildSpd({ ...base, amount: 1_000_000_000 }), /amount/);
    assert.throws(() => buildSpd({ ...base, amount: 0 }), /amount/);
    assert.throws(() => buildSpd({ ...base, iban: "2801234567/2010" }), /IBAN/);
  });
});

describe("matching a movement to a reference", () => {
  it("exact, short and over: booked as it arrived (an over-payment's excess is refunded by the refund machinery)", () => {
    assert.deepEqual(decideIncoming(movement(), reference(), openWish), { kind: "book", donationId: "d1", received: 50_000 });
    assert.deepEqual(decideIncoming(movement({ amount: 30_000 }), reference(), openWish), { kind: "book", donationId: "d1", received: 30_000 });
    assert.deepEqual(decideIncoming(movement({ amount: 70_000 }), reference(), openWish), { kind: "book", donationId: "d1", received: 70_000 });
  });

  it("a closed or expired wish, a closed or paid reference → everything back; the paying movement itself is still a booking", () => {
    assert.deepEqual(decideIncoming(movement(), reference(), { ...openWish, status: "closed", closedAt: new Date("2026-11-29T10:00:00Z") }), { kind: "return", donationId: "d1", amount: 50_000, reason: "wish_closed" });
    assert.equal((decideIncoming(movement({ date: "2026-12-01" }), reference(), { status: "open", deadline: now }) as { reason: string }).reason, "wish_closed", "booked the day after the deadline");
    assert.equal((decideIncoming(movement({ date: "2026-12-01" }), reference(), { status: "closed", deadline: openWish.deadline, closedAt: now }) as { reason: string }).reason, "wish_closed");
    assert.equal((decideIncoming(movement(), reference(), { status: "funded", deadline: openWish.deadline }) as { reason: string }).reason, "wish_closed", "a funded wish takes no more");
    assert.equal((decideIncoming(movement(), reference({ closedAt: now }), openWish) as { reason: string }).reason, "reference_closed");
    assert.equal((decideIncoming(movement(), reference({ paidByMovementId: "99" }), openWish) as { reason: string }).reason, "already_paid");
    assert.equal(decideIncoming(movement(), reference({ paidByMovementId: "100" }), openWish).kind, "book");
  });

  it("timeliness is the booking date (a Prague day): booked on or before the day the wish stopped taking money → booked, even if it closed since", () => {
    // Deadline 2026-11-30 12:00 UTC; the poller reads the feed only days later (Fio was down).
    assert.equal(decideIncoming(movement({ date: "2026-11-30" }), reference(), { status: "open", deadline: now }).kind, "book", "the deadline's day");
    assert.equal(decideIncoming(movement({ date: "2026-11-29" }), reference(), { status: "expired", deadline: now, closedAt: new Date("2026-12-03T08:00:00Z") }).kind, "book");
    assert.equal(decideIncoming(movement({ date: "2026-11-30" }), reference(), { status: "closed", deadline: openWish.deadline, closedAt: now }).kind, "book", "the day it was closed");
    assert.equal(bankDay(new Date("2026-11-30T23:30:00Z")), "2026-12-01", "a Prague day");
    assert.deepEqual(startOfBankDay(new Date("2026-11-30T23:30:00Z")), new Date("2026-11-30T23:00:00Z"));
    assert.deepEqual(startOfBankDay(new Date("2026-07-01T12:00:00Z")), new Date("2026-06-30T22:00:00Z"), "summer time");
  });

  it("unknown symbol → ops; a foreign sender or currency → returned by hand", () => {
    assert.deepEqual(decideIncoming(movement(), null, openWish), { kind: "unknown_reference" });
    assert.equal(decideIncoming(movement({ bankCode: null, bic: "DEUTDEFF" }), reference(), { ...openWish, status: "closed", closedAt: new Date("2026-11-29T10:00:00Z") }).kind, "manual_return");
    assert.deepEqual(decideIncoming(movement({ currency: "EUR" }), reference(), openWish), {
      kind: "manual_return",
      donationId: "d1",
      amount: 50_000,
      reason: "foreign_currency",
      why: "foreign_currency",
    });
  });

  it("outgoing movements are ours only with our order comment; symbols lose leading zeros", () => {
    assert.deepEqual(decideOutgoing(movement({ amount: -100, comment: orderComment("r_d1_0") })), { kind: "order_executed", orderId: "r_d1_0" });
    assert.deepEqual(decideOutgoing(movement({ amount: -100, comment: "nájem" })), { kind: "not_ours" });
    assert.equal(normaliseVariableSymbol("0012"), "12");
    assert.equal(normaliseVariableSymbol("abc"), null);
    assert.equal(normaliseVariableSymbol("0"), null);
  });
});
