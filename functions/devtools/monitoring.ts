// Alerts as code (docs/operations.md, "Alerts"): the log-based metrics and alert policies in ops/monitoring/, upserted
// into a real project by `npm run ops -- apply-monitoring --project <id>` through the Logging and Monitoring REST
// APIs. Metrics are keyed by name, policies by displayName, so applying twice changes nothing twice.
import { readFileSync } from "node:fs";
import path from "node:path";

const MONITORING_DIR = path.resolve(__dirname, "..", "..", "ops", "monitoring");

export interface LogMetric {
  name: string;
  description: string;
  filter: string;
  /** The runbook entry in docs/operations.md (anchor `alert-<runbook>`). */
  runbook: string;
}

export interface AlertPolicy {
  displayName: string;
  documentation: { content: string; mimeType: string };
  conditions: { conditionThreshold?: { filter: string }; conditionAbsent?: { filter: string } }[];
  notificationChannels?: string[];
  [key: string]: unknown;
}

export function loadMonitoring(): { metrics: LogMetric[]; policies: AlertPolicy[] } {
  const read = <T>(file: string): T => JSON.parse(readFileSync(path.join(MONITORING_DIR, file), "utf8")) as T;
  return { metrics: read<{ metrics: LogMetric[] }>("metrics.json").metrics, policies: read<{ policies: AlertPolicy[] }>("policies.json").policies };
}

export interface PlannedRequest {
  what: string;
  /** Looked up first; absent → `create`, present → `update`. */
  lookup: string;
  create: { method: "POST"; url: string; body: unknown };
  update: (existing: unknown) => { method: "PUT" | "PATCH"; url: string; body: unknown };
}

/** The requests that make `project`'s metrics and policies equal to the files (policies notify `channels`). */
export function planMonitoring(project: string, channels: string[]): PlannedRequest[] {
  const { metrics, policies } = loadMonitoring();
  const logging = `https://logging.googleapis.com/v2/projects/${project}/metrics`;
  const monitoring = `https://monitoring.googleapis.com/v3/projects/${project}/alertPolicies`;
  const metricRequests = metrics.map((metric): PlannedRequest => {
    const body = { name: metric.name, description: metric.description, filter: metric.filter, metricDescriptor: { metricKind: "DELTA", valueType: "INT64" } };
    return {
      what: `log metric ${metric.name}`,
      lookup: `${logging}/${metric.name}`,
      create: { method: "POST", url: logging, body },
      update: () => ({ method: "PUT", url: `${logging}/${metric.name}`, body }),
    };
  });
  const policyRequests = policies.map((policy): PlannedRequest => {
    const body = { ...policy, notificationChannels: channels };
    return {
      what: `alert policy "${policy.displayName}"`,
      lookup: `${monitoring}?filter=${encodeURIComponent(`display_name="${policy.displayName}"`)}`,
      create: { method: "POST", url: monitoring, body },
      // Without an update mask, PATCH replaces the whole policy: the file is the truth.
      update: (existing) => ({ method: "PATCH", url: `https://monitoring.googleapis.com/v3/${(existing as { name: string }).name}`, body }),
    };
  });
  return [...metricRequests, ...policyRequests];
}

type Fetch = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; text(): Promise<string> }>;

/** Applies the plan with an OAuth access token; returns one line per resource (`created` / `updated`). */
export async function applyMonitoring(plan: PlannedRequest[], token: string, fetchImpl: Fetch = fetch): Promise<string[]> {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const lines: string[] = [];
  for (const request of plan) {
    const found = await fetchImpl(request.lookup, { headers });
    if (!found.ok && found.status !== 404) throw new Error(`${request.what}: lookup answered HTTP ${found.status}: ${await found.text()}`);
    let existing: unknown = found.status === 404 ? undefined : await found.json();
    if (existing && typeof existing === "object" && "alertPolicies" in existing) existing = (existing as { alertPolicies?: unknown[] }).alertPolicies?.[0];
    else if (existing && typeof existing === "object" && !("name" in existing)) existing = undefined; // an empty list answer
    const call = existing ? request.update(existing) : request.create;
    const response = await fetchImpl(call.url, { method: call.method, headers, body: JSON.stringify(call.body) });
    if (!response.ok) throw new Error(`${request.what}: ${call.method} answered HTTP ${response.status}: ${await response.text()}`);
    lines.push(`${request.what}: ${existing ? "updated" : "created"}`);
  }
  return lines;
}
