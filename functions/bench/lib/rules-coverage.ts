// Rules lookups (get()/exists()) counted from the Firestore emulator's rules coverage report: for every expression
// of the loaded rules it lists the values it evaluated to and how often. The lookups a request made are the
// difference of the get()/exists() evaluation counts before and after it (evaluations that produced no value, which
// the report shows as "undefined", are left out: no document was fetched).
import { z } from "zod";

const valueSchema = z.object({ value: z.record(z.string(), z.unknown()), count: z.number() });
interface CoverageNode {
  sourcePosition: { currentOffset: number; endOffset: number };
  values?: z.infer<typeof valueSchema>[];
  children?: CoverageNode[];
}
const nodeSchema: z.ZodType<CoverageNode> = z.lazy(() =>
  z.object({
    sourcePosition: z.object({ currentOffset: z.number(), endOffset: z.number() }),
    values: z.array(valueSchema).optional(),
    children: z.array(nodeSchema).optional(),
  }),
);
const coverageSchema = z.object({
  rules: z.object({ files: z.array(z.object({ content: z.string() })) }),
  report: z.array(nodeSchema).optional(),
});

/** get()/exists() evaluations that fetched something, keyed by expression position and returned value. */
export type LookupSnapshot = Map<string, number>;

export async function rulesLookupsSoFar(firestoreHost: string, projectId: string): Promise<LookupSnapshot> {
  const response = await fetch(`http://${firestoreHost}/emulator/v1/projects/${projectId}:ruleCoverage`);
  if (!response.ok) throw new Error(`rules coverage report: HTTP ${response.status}`);
  const coverage = coverageSchema.parse(await response.json());
  const source = Buffer.from(coverage.rules.files[0]?.content ?? "", "utf8");
  // Nodes that start where the source has a get( or exists( call. Several nodes can start there (the call, its
  // `.data` member access, an `exists(...) && ...` around it) and the report's end offsets are not exact, so the
  // call is the innermost of them: the shortest span at that offset. The same span can appear under several rules
  // (a function called from several places); its evaluations add up.
  const byStart = new Map<number, CoverageNode[]>();
  const walk = (nodes: readonly CoverageNode[]) => {
    for (const node of nodes) {
      const start = node.sourcePosition.currentOffset;
      const head = source.subarray(start, start + 7).toString("utf8");
      if (head.startsWith("get(") || head.startsWith("exists(")) byStart.set(start, [...(byStart.get(start) ?? []), node]);
      walk(node.children ?? []);
    }
  };
  walk(coverage.report ?? []);
  const snapshot: LookupSnapshot = new Map();
  for (const [start, nodes] of byStart) {
    const span = (node: CoverageNode) => node.sourcePosition.endOffset - node.sourcePosition.currentOffset;
    const shortest = Math.min(...nodes.map(span));
    for (const node of nodes.filter((n) => span(n) === shortest)) {
      for (const value of node.values ?? []) {
        if ("undefined" in value.value) continue;
        const key = `${start}:${JSON.stringify(value.value)}`;
        snapshot.set(key, (snapshot.get(key) ?? 0) + value.count);
      }
    }
  }
  return snapshot;
}

export interface RequestLookups {
  /** get()/exists() evaluations (the emulator may evaluate a list rule once per returned document). */
  evaluations: number;
  /**
   * Distinct lookups: each get()/exists() call site counted once per document it returned, however often the
   * emulator evaluated it. (Production caches a document within a request: an exists() and a get() of the same
   * document are billed as one read.)
   */
  distinct: number;
}

/**
 * The rules lookups of ONE request: run `request` alone (nothing else may go through the rules meanwhile) between
 * two snapshots of the coverage report.
 */
export async function rulesLookupsOf(firestoreHost: string, projectId: string, request: () => Promise<unknown>): Promise<RequestLookups> {
  const before = await rulesLookupsSoFar(firestoreHost, projectId);
  await request();
  const after = await rulesLookupsSoFar(firestoreHost, projectId);
  let evaluations = 0;
  let distinct = 0;
  for (const [key, count] of after) {
    const delta = count - (before.get(key) ?? 0);
    if (delta > 0) {
      evaluations += delta;
      distinct += 1;
    }
  }
  return { evaluations, distinct };
}
