import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { applyMonitoring, loadMonitoring, planMonitoring } from "../../devtools/monitoring";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const SRC = path.join(ROOT, "functions", "src");

function sourceText(dir: string): string {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => readFileSync(path.join(entry.parentPath, entry.name), "utf8"))
    .join("\n");
}

/** The Logging and Monitoring REST APIs, in memory: enough to see that applying twice creates nothing twice. */
function fakeGoogle() {
  const metrics = new Map<string, unknown>();
  const policies = new Map<string, { name: string; displayName: string }>();
  const calls: string[] = [];
  const reply = (status: number, body: unknown = {}) => ({ ok: status < 300, status, json: () => Promise.resolve(body), text: () => Promise.resolve(JSON.stringify(body)) });
  const fetchImpl = (url: string, init?: { method?: string; body?: string }) => {
    const method = init?.method ?? "GET";
    calls.push(`${method} ${url.split("?")[0] ?? url}`);
    const body = init?.body ? (JSON.parse(init.body) as { name?: string; displayName?: string }) : {};
    const metric = /\/v2\/projects\/[^/]+\/metrics\/([^/?]+)$/.exec(url)?.[1];
    if (url.includes("/metrics")) {
      if (method === "GET") return Promise.resolve(metric && metrics.has(metric) ? reply(200, metrics.get(metric)) : reply(404));
      metrics.set(String(body.name), body);
      return Promise.resolve(reply(200, body));
    }
    if (method === "GET") {
      const wanted = /display_name="(.*)"/.exec(decodeURIComponent(url))?.[1];
      const found = [...policies.values()].filter((policy) => policy.displayName === wanted);
      return Promise.resolve(reply(200, found.length > 0 ? { alertPolicies: found } : {}));
    }
    const name = method === "POST" ? `projects/p/alertPolicies/${policies.size + 1}` : (url.split("/v3/")[1] ?? "");
    policies.set(name, { ...body, name, displayName: String(body.displayName) });
    return Promise.resolve(reply(200, policies.get(name)));
  };
  return { metrics, policies, calls, fetchImpl };
}

describe("ops: alerts as code (ops/monitoring)", () => {
  const { metrics, policies } = loadMonitoring();
  const operations = readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");

  it("every log-based metric counts a message our functions really log", () => {
    const code = sourceText(SRC);
    for (const metric of metrics) {
      const message = /jsonPayload\.message="((?:[^"\\]|\\.)*)"/.exec(metric.filter)?.[1];
      assert.ok(message, `${metric.name} filters on a message`);
      assert.ok(code.includes(`"${message.replace(/\\'/g, "'")}"`), `${metric.name}: no logger call writes "${message}"`);
    }
  });

  it("every policy watches a defined metric (or a platform metric) and links a runbook entry that exists", () => {
    const defined = new Set(metrics.map((metric) => metric.name));
    for (const policy of policies) {
      for (const condition of policy.conditions) {
        const filter = condition.conditionThreshold?.filter ?? condition.conditionAbsent?.filter ?? "";
        const user = /logging\.googleapis\.com\/user\/([a-z_]+)/.exec(filter)?.[1];
        if (user) assert.ok(defined.has(user), `${policy.displayName}: metric ${user} is not in metrics.json`);
        else assert.match(filter, /metric\.type="(cloudtasks|run)\.googleapis\.com\//, `${policy.displayName}: watches an unknown metric`);
      }
      const anchor = /anchor `(alert-[a-z0-9-]+)`/.exec(policy.documentation.content)?.[1];
      assert.ok(anchor, `${policy.displayName} names its runbook anchor`);
      assert.ok(operations.includes(`<a id="${anchor}"></a>`), `docs/operations.md has no runbook entry ${anchor}`);
    }
    for (const metric of metrics) assert.ok(operations.includes(`<a id="alert-${metric.runbook}"></a>`), `docs/operations.md has no runbook entry alert-${metric.runbook}`);
  });

  it("each runbook entry names its log query: the metric's own filter", () => {
    for (const metric of metrics) {
      const entry = operations.slice(operations.indexOf(`<a id="alert-${metric.runbook}"></a>`));
      const query = metric.filter.replace('resource.type="cloud_run_revision" AND ', "");
      assert.ok(entry.slice(0, 2500).includes(query), `runbook alert-${metric.runbook} does not show the query ${query}`);
    }
  });

  it("applying creates every metric and policy once; applying again only updates them", async () => {
    const google = fakeGoogle();
    const plan = planMonitoring("p", ["projects/p/notificationChannels/1"]);
    const first = await applyMonitoring(plan, "token", google.fetchImpl);
    assert.equal(first.filter((line) => line.endsWith("created")).length, metrics.length + policies.length);
    const second = await applyMonitoring(plan, "token", google.fetchImpl);
    assert.equal(second.filter((line) => line.endsWith("updated")).length, metrics.length + policies.length);
    assert.equal(google.metrics.size, metrics.length);
    assert.equal(google.policies.size, policies.length);
    assert.ok([...google.policies.values()].every((policy) => (policy as unknown as { notificationChannels: string[] }).notificationChannels[0] === "projects/p/notificationChannels/1"));
  });
});

describe("ops: the params and secrets list", () => {
  it("docs/operations.md lists exactly the params and secrets the code declares (src/api/params.ts)", () => {
    const config = readFileSync(path.join(SRC, "api", "params.ts"), "utf8");
    const declared = [...config.matchAll(/define(Secret|String|Int|Boolean|List)\("([A-Z0-9_]+)"/g)].map((match) => match[2]).sort();
    const operations = readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");
    const section = operations.slice(operations.indexOf("## Params and secrets"), operations.indexOf("\n## ", operations.indexOf("## Params and secrets") + 5));
    const documented = [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((match) => match[1]).sort();
    assert.ok(declared.length > 0);
    assert.deepEqual(documented, declared);
  });
});
