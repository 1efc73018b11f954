import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";

/** Small shared plumbing for our local fakes of external HTTP APIs (never deployed: devtools/ is not in lib/). */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Starts `handler` on 127.0.0.1:`port` (0 = any free port). Handler errors become HTTP 500 with the message. */
export async function listen(
  port: number,
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void,
): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: error instanceof Error ? error.message : String(error) } });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // ELATEME_HOST (scripts/emulators.mjs) opts in to listening beyond this machine, e.g. for a phone on the LAN.
    server.listen(port, process.env.ELATEME_HOST || "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${boundPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Port of a URL such as ELATEME_FAKE_STRIPE_URL. */
export function portOf(url: string | undefined, fallback: number): number {
  if (!url) return fallback;
  return Number(new URL(url).port) || fallback;
}
