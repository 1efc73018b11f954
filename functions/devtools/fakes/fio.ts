// A local fake of Fio banka's REST API (API Bankovnictví) for one CZK account, for the emulator suite and the tests:
// - `GET /last/{token}/transactions.json`: movements since the token's cursor (kept per token, moved when answered);
// - `GET /periods/{token}/{from}/{to}/transactions.json`: movements booked in a date range (cursor untouched);
// - `GET /set-last-id/{token}/{id}/`, `GET /set-last-date/{token}/{yyyy-mm-dd}/`: cursor repair;
// - `POST /import/` (multipart: type=xml, token, file): payment orders (`DomesticTransaction`), answered with Fio's
//   `responseImport` XML;
// - HTTP 409 to any request of a token within 30 s of its previous answered request, as the bank does.
// Scripting, for tests in-process (typed methods) and for `npm start` over HTTP (`POST /__fake/...`, not Fio's API):
// money arriving (`addIncoming`), time passing (`advance`, so tests need not wait 30 s), orders being confirmed in
// internet banking and executed (`confirmOrders`, `executeOrders`: then they appear in the feed as outgoing movements
// carrying the order's comment), the bank going down (5xx) and coming back (`setDown`).
import type { ServerResponse } from "node:http";
import { listen, readBody, sendJson } from "./http";
import type { RunningServer } from "./http";

export interface FakeFioMovement {
  id: number;
  /** "YYYY-MM-DD". */
  date: string;
  /** Signed minor units. */
  amount: number;
  currency: string;
  variableSymbol: string | null;
  counterAccount: string | null;
  bankCode: string | null;
  counterAccountName: string | null;
  message: string | null;
  comment: string | null;
  instructionId: string | null;
}

export interface FakeFioOrder {
  instructionId: string;
  accountFrom: string;
  accountTo: string;
  bankCode: string;
  amount: number;
  currency: string;
  variableSymbol: string | null;
  message: string | null;
  comment: string | null;
  /** awaiting_confirmation → (ops confirm in internet banking) → accepted → executed (a movement in the feed). */
  status: "awaiting_confirmation" | "accepted" | "executed";
}

export interface FakeFio extends RunningServer {
  readonly account: { accountId: string; bankId: string; iban: string; currency: string };
  readonly movements: FakeFioMovement[];
  readonly orders: FakeFioOrder[];
  /** Every request: path without the token, answered status. */
  readonly calls: { path: string; status: number; at: number }[];
  /** Money arriving on the account; answers the movement. */
  addIncoming(input: { amount: number; variableSymbol?: string | null; counterAccount?: string | null; bankCode?: string | null; name?: string | null; message?: string | null; currency?: string; date?: string }): FakeFioMovement;
  /** Lets time pass for the rate limit (and the dates of new movements). */
  advance(ms: number): void;
  /** Orders imported from now on wait for a confirmation in internet banking (default: accepted at once). */
  requireConfirmation(required: boolean): void;
  confirmOrders(): number;
  /** Executes every accepted order: each becomes an outgoing movement. Answers how many. */
  executeOrders(): number;
  /** While down, every request is answered 503 (and does not count for the rate limit). */
  setDown(down: boolean): void;
  /** Imports with an order to this account are refused (errorCode 11, as for an account the bank will not pay to). */
  refuseAccount(account: string | null): void;
  reset(): void;
}

const DEFAULT_ACCOUNT = { accountId: "2801234567", bankId: "2010", iban: "CZ1120100000002801234567", currency: "CZK" };
export const FAKE_FIO_TOKEN = "fake-fio-token";
const RATE_LIMIT_MS = 30_000;

const decimal = (minor: number) => (minor / 100).toFixed(2);
const col = (id: number, name: string, value: unknown) => (value === null || value === undefined ? null : { value, name, id });

function movementJson(movement: FakeFioMovement) {
  return {
    column22: col(22, "ID pohybu", movement.id),
    column0: col(0, "Datum", `${movement.date}+0100`),
    column1: col(1, "Objem", Number(decimal(movement.amount))),
    column14: col(14, "Měna", movement.currency),
    column2: col(2, "Protiúčet", movement.counterAccount),
    column10: col(10, "Název protiúčtu", movement.counterAccountName),
    column3: col(3, "Kód banky", movement.bankCode),
    column12: null,
    column4: null,
    column5: col(5, "VS", movement.variableSymbol),
    column6: null,
    column7: null,
    column8: col(8, "Typ", movement.amount >= 0 ? "Bezhotovostní příjem" : "Bezhotovostní platba"),
    column16: col(16, "Zpráva pro příjemce", movement.message),
    column17: col(17, "ID pokynu", movement.instructionId ? Number(movement.instructionId) : null),
    column25: col(25, "Komentář", movement.comment),
  };
}

function tagValue(xml: string, name: string): string | null {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match?.[1] === undefined ? null : match[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
}

function importAnswer(errorCode: number, status: string, instructionId: string | null, message: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
    '<responseImport xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.fio.cz/schema/responseImport.xsd">' +
    `<result><errorCode>${errorCode}</errorCode>${instructionId ? `<idInstruction>${instructionId}</idInstruction>` : ""}<status>${status}</status></result>` +
    `<ordersDetails><detail id="1"><messages><message status="${status}" errorCode="${errorCode}">${message}</message></messages></detail></ordersDetails></responseImport>`
  );
}

export async function startFakeFio(port: number, account = DEFAULT_ACCOUNT): Promise<FakeFio> {
  let movements: FakeFioMovement[] = [];
  let orders: FakeFioOrder[] = [];
  let calls: { path: string; status: number; at: number }[] = [];
  /** Per token: the id of the last movement downloaded (the cursor), and the time of its last answered request. */
  let cursors = new Map<string, number>();
  let lastCall = new Map<string, number>();
  let offsetMs = 0;
  let down = false;
  let confirmationRequired = false;
  let refusedAccount: string | null = null;
  let nextMovementId = 30_000_000_001;
  let nextInstructionId = 105_000_001;
  const now = () => Date.now() + offsetMs;
  const today = () => new Date(now()).toISOString().slice(0, 10);

  const addMovement = (movement: Omit<FakeFioMovement, "id">): FakeFioMovement => {
    const added = { ...movement, id: nextMovementId++ };
    movements.push(added);
    return added;
  };

  const statement = (rows: FakeFioMovement[], from: string, to: string) => ({
    accountStatement: {
      info: {
        ...account,
        bic: "FIOBCZPPXXX",
        openingBalance: 0,
        closingBalance: Number(decimal(movements.reduce((sum, movement) => sum + movement.amount, 0))),
        dateStart: `${from}+0100`,
        dateEnd: `${to}+0100`,
        yearList: null,
        idList: null,
        idFrom: rows[0]?.id ?? null,
        idTo: rows[rows.length - 1]?.id ?? null,
        idLastDownload: null,
      },
      transactionList: { transaction: rows.map(movementJson) },
    },
  });

  const fio: Omit<FakeFio, "url" | "close"> = {
    account,
    get movements() {
      return movements;
    },
    get orders() {
      return orders;
    },
    get calls() {
      return calls;
    },
    addIncoming(input) {
      return addMovement({
        date: input.date ?? today(),
        amount: input.amount,
        currency: input.currency ?? account.currency,
        variableSymbol: input.variableSymbol ?? null,
        counterAccount: input.counterAccount === undefined ? "1998087029" : input.counterAccount,
        bankCode: input.bankCode === undefined ? "3030" : input.bankCode,
        counterAccountName: input.name ?? "Jana Nováková",
        message: input.message ?? null,
        comment: null,
        instructionId: null,
      });
    },
    advance(ms) {
      offsetMs += ms;
    },
    requireConfirmation(required) {
      confirmationRequired = required;
    },
    confirmOrders() {
      const waiting = orders.filter((order) => order.status === "awaiting_confirmation");
      for (const order of waiting) order.status = "accepted";
      return waiting.length;
    },
    executeOrders() {
      const accepted = orders.filter((order) => order.status === "accepted");
      for (const order of accepted) {
        order.status = "executed";
        addMovement({
          date: today(),
          amount: -order.amount,
          currency: order.currency,
          variableSymbol: order.variableSymbol,
          counterAccount: order.accountTo,
          bankCode: order.bankCode,
          counterAccountName: null,
          message: order.message,
          comment: order.comment,
          instructionId: order.instructionId,
        });
      }
      return accepted.length;
    },
    setDown(value) {
      down = value;
    },
    refuseAccount(account) {
      refusedAccount = account;
    },
    reset() {
      movements = [];
      orders = [];
      calls = [];
      cursors = new Map();
      lastCall = new Map();
      offsetMs = 0;
      down = false;
      confirmationRequired = false;
      refusedAccount = null;
    },
  };

  /** Answers one Fio API request for `token` (after the down and rate-limit checks). */
  const answerApi = async (res: ServerResponse, token: string, route: string[], form: FormData | null): Promise<number> => {
    const [kind, , a, b] = route;
    if (kind === "last") {
      const after = cursors.get(token) ?? 0;
      const rows = movements.filter((movement) => movement.id > after);
      if (rows.length > 0) cursors.set(token, rows[rows.length - 1]?.id ?? after);
      sendJson(res, 200, statement(rows, rows[0]?.date ?? today(), today()));
      return 200;
    }
    if (kind === "periods" && a && b) {
      sendJson(res, 200, statement(movements.filter((movement) => movement.date >= a && movement.date <= b), a, b));
      return 200;
    }
    if (kind === "set-last-id" && a) {
      cursors.set(token, Number(a));
      res.writeHead(200).end();
      return 200;
    }
    if (kind === "set-last-date" && a) {
      const before = movements.filter((movement) => movement.date <= a);
      cursors.set(token, before[before.length - 1]?.id ?? 0);
      res.writeHead(200).end();
      return 200;
    }
    if (kind === "import" && form) {
      const file = form.get("file");
      const xml = file instanceof Blob ? await file.text() : String(file ?? "");
      const blocks = [...xml.matchAll(/<DomesticTransaction>([\s\S]*?)<\/DomesticTransaction>/g)].map((match) => match[1] ?? "");
      const parsed = blocks.map((block) => ({
        accountFrom: tagValue(block, "accountFrom"),
        accountTo: tagValue(block, "accountTo"),
        bankCode: tagValue(block, "bankCode"),
        amount: tagValue(block, "amount"),
        currency: tagValue(block, "currency"),
        vs: tagValue(block, "vs"),
        message: tagValue(block, "messageForRecipient"),
        comment: tagValue(block, "comment"),
      }));
      const bad = parsed.find(
        (order) =>
          order.accountFrom !== account.accountId ||
          !order.accountTo ||
          order.accountTo === refusedAccount ||
          !/^\d{4}$/.test(order.bankCode ?? "") ||
          !/^\d+\.\d{2}$/.test(order.amount ?? ""),
      );
      if (form.get("type") !== "xml" || blocks.length === 0 || bad) {
        res.writeHead(200, { "content-type": "application/xml" }).end(importAnswer(11, "error", null, bad ? "Chybné údaje příkazu" : "Chybný soubor"));
        return 200;
      }
      const instructionId = String(nextInstructionId++);
      for (const order of parsed) {
        orders.push({
          instructionId,
          accountFrom: order.accountFrom ?? "",
          accountTo: order.accountTo ?? "",
          bankCode: order.bankCode ?? "",
          amount: Math.round(Number(order.amount) * 100),
          currency: order.currency ?? "CZK",
          variableSymbol: order.vs,
          message: order.message,
          comment: order.comment,
          status: confirmationRequired ? "awaiting_confirmation" : "accepted",
        });
      }
      res.writeHead(200, { "content-type": "application/xml" }).end(importAnswer(0, "ok", instructionId, "OK"));
      return 200;
    }
    sendJson(res, 404, { error: "not found" });
    return 404;
  };

  const scripting = (res: ServerResponse, action: string, body: Record<string, unknown>): void => {
    if (action === "incoming") sendJson(res, 200, fio.addIncoming(body as Parameters<FakeFio["addIncoming"]>[0]));
    else if (action === "advance") sendJson(res, 200, { advanced: (fio.advance(Number(body.ms ?? RATE_LIMIT_MS)), true) });
    else if (action === "confirm-orders") sendJson(res, 200, { confirmed: fio.confirmOrders() });
    else if (action === "execute-orders") sendJson(res, 200, { executed: fio.executeOrders() });
    else if (action === "down") sendJson(res, 200, { down: (fio.setDown(body.down !== false), body.down !== false) });
    else if (action === "state") sendJson(res, 200, { movements, orders, calls });
    else sendJson(res, 404, { error: `unknown scripting action ${action}` });
  };

  const server = await listen(port, async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake-fio");
    const route = url.pathname.split("/").filter(Boolean);
    const raw = await readBody(req);
    if (route[0] === "__fake") {
      scripting(res, route[1] ?? "", raw ? (JSON.parse(raw) as Record<string, unknown>) : {});
      return;
    }
    let form: FormData | null = null;
    let token = route[1] ?? "";
    if (route[0] === "import") {
      form = await new Request("http://fake-fio/import/", { method: "POST", headers: { "content-type": req.headers["content-type"] ?? "" }, body: raw }).formData();
      const formToken = form.get("token");
      token = typeof formToken === "string" ? formToken : "";
    }
    const path = route[0] === "import" ? "import" : [route[0], ...route.slice(2)].join("/");
    const at = now();
    if (down) {
      calls.push({ path, status: 503, at });
      sendJson(res, 503, { error: "Service Unavailable" });
      return;
    }
    const last = lastCall.get(token);
    if (last !== undefined && at - last < RATE_LIMIT_MS) {
      calls.push({ path, status: 409, at });
      res.writeHead(409).end();
      return;
    }
    lastCall.set(token, at);
    calls.push({ path, status: await answerApi(res, token, route, form), at });
  });
  return Object.assign(fio, server);
}
