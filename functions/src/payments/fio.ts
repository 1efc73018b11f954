import { z } from "zod";
import { isEmulator } from "../lib/env";
import { PaymentProviderError } from "./provider";

/**
 * Fio banka's REST API (API Bankovnictví): the account's movements and the payment-order import. One token serves one
 * system: the bank keeps the "since last download" cursor per token, and answers HTTP 409 to a second request with the
 * same token within 30 seconds (any request: download, cursor repair or import). The caller (src/settlement/fio.ts)
 * holds that limit with a lease; this adapter only speaks HTTP and turns a 409 into `FioRateLimited`.
 *
 * Amounts: the API speaks decimal numbers in the account's currency (`column1: 1480.00`); this adapter converts them to
 * integer minor units once, here, and never hands a float to the domain.
 */

/** Fio's production endpoint; `FIO_API_URL` (src/api/params.ts) may point elsewhere, the emulator at the fake. */
export const FIO_DEFAULT_API_URL = "https://fioapi.fio.cz/v1/rest";
/**
 * The base URL to call: FIO_API_URL, except inside the emulator suite (and only there), where the local fake Fio named
 * by ELATEME_FAKE_FIO_URL answers (its port follows ELATEME_PORT_OFFSET, which a param file cannot).
 */
export function fioBaseUrl(configured: string, env: NodeJS.ProcessEnv = process.env): string {
  const fake = isEmulator(env) ? env.ELATEME_FAKE_FIO_URL : undefined;
  return fake ?? configured;
}

/** The bank's limit: one request per token per this many milliseconds. */
export const FIO_MIN_INTERVAL_MS = 30_000;

/** One column of a movement: `{ value, name, id }`, or null when empty. */
const column = <T extends z.ZodType>(value: T) => z.object({ value }).nullish();
const text = column(z.union([z.string(), z.number()]).transform(String));

/** One movement of `transactionList.transaction[]`, by Fio's column numbers (API documentation, section "Pohyby"). */
export const fioTransactionSchema = z.object({
  /** Datum: the booking date with the zone, e.g. "2019-06-12+0200". */
  column0: column(z.string()),
  /** Objem: signed amount in the account's currency (negative = outgoing). */
  column1: column(z.union([z.number(), z.string()])),
  /** Protiúčet: the counter account number (with its prefix "19-2000145399" when there is one). */
  column2: text,
  /** Kód banky: the counter account's bank code (4 digits in Czechia). */
  column3: text,
  /** KS, VS, SS: constant, variable and specific symbols. */
  column4: text,
  column5: text,
  column6: text,
  /** Uživatelská identifikace. */
  column7: text,
  /** Typ: the kind of movement ("Bezhotovostní příjem", "Bezhotovostní platba", ...). */
  column8: text,
  /** Název protiúčtu: the counter account's name. */
  column10: text,
  /** Měna. */
  column14: column(z.string()),
  /** Zpráva pro příjemce: the message for the recipient. */
  column16: text,
  /** ID pokynu: the instruction (payment order) that made an outgoing movement. */
  column17: text,
  /** Upřesnění: e.g. the original amount and currency of a converted payment. */
  column18: text,
  /** ID pohybu: the movement's unique id. */
  column22: column(z.union([z.number(), z.string()]).transform(String)),
  /** Komentář: our own comment (for an order we imported: the `comment` we gave it). */
  column25: text,
  /** BIC of a foreign counter account. */
  column26: text,
});
export type FioTransactionJson = z.infer<typeof fioTransactionSchema>;

/** The JSON answer of `last/…/transactions.json` and `periods/…/transactions.json`. */
export const fioStatementSchema = z.object({
  accountStatement: z.object({
    info: z.object({
      accountId: z.union([z.string(), z.number()]).transform(String).nullish(),
      bankId: z.union([z.string(), z.number()]).transform(String).nullish(),
      currency: z.string().nullish(),
      iban: z.string().nullish(),
      idFrom: z.number().nullish(),
      idTo: z.number().nullish(),
      idLastDownload: z.number().nullish(),
    }),
    transactionList: z.object({ transaction: z.array(fioTransactionSchema).nullish() }).nullish(),
  }),
});

/** A movement on our account as the domain needs it. */
export interface FioMovement {
  /** Fio's movement id (column22): unique per movement, the key of every dedup. */
  movementId: string;
  /** Booking date, "YYYY-MM-DD". */
  date: string;
  /** Signed, in minor units: positive = money in, negative = money out. */
  amount: number;
  currency: string;
  variableSymbol: string | null;
  /** The counter account (prefix-number) and its bank code; null when the bank does not report one. */
  counterAccount: string | null;
  bankCode: string | null;
  counterAccountName: string | null;
  messageForRecipient: string | null;
  /** Our comment on an order we imported (outgoing movements): how we recognise our own return orders. */
  comment: string | null;
  instructionId: string | null;
  type: string | null;
  /** The counter account's BIC when it is abroad. */
  bic: string | null;
}

export interface FioStatement {
  accountId: string | null;
  bankId: string | null;
  currency: string | null;
  iban: string | null;
  movements: FioMovement[];
}

/** A decimal amount ("1480.00", 1480, -300.5) in minor units, without floating-point drift. */
export function toMinorUnits(value: number | string): number {
  const textValue = typeof value === "number" ? value.toFixed(2) : value.trim();
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(textValue);
  if (!match) throw new PaymentProviderError(`Fio amount is not a decimal: ${textValue}`, "fio_bad_amount");
  const minor = Number(match[2]) * 100 + Number((match[3] ?? "").padEnd(2, "0"));
  return match[1] === "-" ? -minor : minor;
}

/** Minor units as the decimal string Fio's import and the SPD format want ("450.00"). */
export function toDecimal(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

function blankToNull(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

export function toMovement(row: FioTransactionJson): FioMovement {
  const movementId = row.column22?.value;
  const amount = row.column1?.value;
  const date = row.column0?.value;
  if (!movementId || amount === undefined || !date) throw new PaymentProviderError("Fio movement without id, amount or date", "fio_bad_movement");
  return {
    movementId,
    date: date.slice(0, 10),
    amount: toMinorUnits(amount),
    currency: row.column14?.value ?? "CZK",
    variableSymbol: blankToNull(row.column5?.value),
    counterAccount: blankToNull(row.column2?.value),
    bankCode: blankToNull(row.column3?.value),
    counterAccountName: blankToNull(row.column10?.value),
    messageForRecipient: blankToNull(row.column16?.value),
    comment: blankToNull(row.column25?.value),
    instructionId: blankToNull(row.column17?.value),
    type: blankToNull(row.column8?.value),
    bic: blankToNull(row.column26?.value),
  };
}

export function parseStatement(json: unknown): FioStatement {
  const parsed = fioStatementSchema.safeParse(json);
  if (!parsed.success) throw new PaymentProviderError(`Fio statement did not parse: ${parsed.error.issues[0]?.message ?? "?"}`, "fio_bad_statement");
  const { info, transactionList } = parsed.data.accountStatement;
  return {
    accountId: info.accountId ?? null,
    bankId: info.bankId ?? null,
    currency: info.currency ?? null,
    iban: info.iban ?? null,
    movements: (transactionList?.transaction ?? []).map(toMovement),
  };
}

/** A domestic payment order (`DomesticTransaction` of Fio's XML import). */
export interface FioDomesticOrder {
  /** Our account number (without the bank code). */
  accountFrom: string;
  currency: "CZK";
  /** Minor units, positive. */
  amount: number;
  accountTo: string;
  bankCode: string;
  variableSymbol: string | null;
  /** What the recipient reads on their statement (Fio allows 140 characters). */
  messageForRecipient: string;
  /** Our own note on the movement (column25 of the feed): how the poller recognises the movement as this order. */
  comment: string;
  /** Due date "YYYY-MM-DD". */
  date: string;
}

/** Fio's answer to an import (`responseImport`). */
export interface FioImportResult {
  /** 0 = accepted; anything else = refused (with `detail`). */
  errorCode: number;
  idInstruction: string | null;
  /** "ok", "warning" (accepted with a remark) or "error". */
  status: string;
  detail: string | null;
}

/** The bank answered 409: a request with this token within the last 30 seconds. Not an error: try later. */
export class FioRateLimited extends Error {
  constructor() {
    super("Fio answered 409: one request per token per 30 seconds");
    this.name = "FioRateLimited";
  }
}

/** The port the settlement poller uses (src/settlement/fio.ts); FioRestClient is the one implementation. */
export interface FioBankApi {
  /** Movements since the last download (the bank moves its cursor when it answers). */
  lastMovements(): Promise<FioStatement>;
  /** Movements booked from `from` to `to` ("YYYY-MM-DD", inclusive); does not move the cursor. */
  periodMovements(from: string, to: string): Promise<FioStatement>;
  /** Repair: set the cursor to after movement `movementId`, or to the end of `date` ("YYYY-MM-DD"). */
  setLastId(movementId: string): Promise<void>;
  setLastDate(date: string): Promise<void>;
  /** Imports payment orders (one XML file). Orders may wait for a confirmation in internet banking (docs/operations.md). */
  importOrders(orders: FioDomesticOrder[]): Promise<FioImportResult>;
}

function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (char) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[char] ?? char);
}

/** The import file: `Import/Orders/DomesticTransaction`, one per order (Fio's importIB.xsd). */
export function importXml(orders: FioDomesticOrder[]): string {
  const tag = (name: string, value: string | null) => (value === null ? "" : `<${name}>${escapeXml(value)}</${name}>`);
  const body = orders
    .map(
      (order) =>
        "<DomesticTransaction>" +
        tag("accountFrom", order.accountFrom) +
        tag("currency", order.currency) +
        tag("amount", toDecimal(order.amount)) +
        tag("accountTo", order.accountTo) +
        tag("bankCode", order.bankCode) +
        tag("vs", order.variableSymbol) +
        tag("date", order.date) +
        tag("messageForRecipient", order.messageForRecipient.slice(0, 140)) +
        tag("comment", order.comment.slice(0, 255)) +
        tag("paymentType", "431001") +
        "</DomesticTransaction>",
    )
    .join("");
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<Import xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.fio.cz/schema/importIB.xsd">' +
    `<Orders>${body}</Orders></Import>`
  );
}

/** Reads Fio's `responseImport` XML (only the fields we act on). */
export function parseImportResponse(xml: string): FioImportResult {
  const first = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]?.trim() ?? null;
  const code = first("errorCode");
  if (code === null || !/^-?\d+$/.test(code)) throw new PaymentProviderError("Fio import answer without errorCode", "fio_bad_import_answer");
  const messages = [...xml.matchAll(/<message[^>]*>([^<]*)<\/message>/g)].map((match) => match[1]?.trim()).filter(Boolean);
  return { errorCode: Number(code), idInstruction: first("idInstruction"), status: first("status") ?? "error", detail: messages.length > 0 ? messages.join("; ") : null };
}

/** The fetch implementation. `baseUrl` is FIO_API_URL (the fake's URL in tests and the emulator). */
export class FioRestClient implements FioBankApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 30_000,
  ) {}

  lastMovements(): Promise<FioStatement> {
    return this.getStatement(`last/${this.token}/transactions.json`);
  }

  periodMovements(from: string, to: string): Promise<FioStatement> {
    return this.getStatement(`periods/${this.token}/${from}/${to}/transactions.json`);
  }

  async setLastId(movementId: string): Promise<void> {
    await this.call(`set-last-id/${this.token}/${encodeURIComponent(movementId)}/`);
  }

  async setLastDate(date: string): Promise<void> {
    await this.call(`set-last-date/${this.token}/${encodeURIComponent(date)}/`);
  }

  async importOrders(orders: FioDomesticOrder[]): Promise<FioImportResult> {
    const form = new FormData();
    form.set("type", "xml");
    form.set("token", this.token);
    form.set("lng", "en");
    form.set("file", new Blob([importXml(orders)], { type: "application/xml" }), "orders.xml");
    const response = await this.call("import/", { method: "POST", body: form });
    return parseImportResponse(await response.text());
  }

  private async getStatement(path: string): Promise<FioStatement> {
    const response = await this.call(path);
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      throw new PaymentProviderError("Fio answered something that is not JSON", "fio_bad_statement", response.status);
    }
    return parseStatement(json);
  }

  /** One HTTP request; 409 → FioRateLimited; any other non-2xx or a network failure → PaymentProviderError. */
  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    const url = `${this.baseUrl.replace(/\/+$/, "")}/${path}`;
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      // Never log the URL: it carries the token.
      throw new PaymentProviderError(`Fio could not be reached: ${error instanceof Error ? error.name : "error"}`, "fio_unreachable");
    }
    if (response.status === 409) throw new FioRateLimited();
    if (!response.ok) throw new PaymentProviderError(`Fio answered HTTP ${response.status}`, `fio_http_${response.status}`, response.status);
    return response;
  }
}
