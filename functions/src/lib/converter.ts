import { Timestamp } from "firebase-admin/firestore";
import type { DocumentData, FirestoreDataConverter, QueryDocumentSnapshot } from "firebase-admin/firestore";
import type { z } from "zod";

/**
 * A typed Firestore converter backed by a zod schema: reads are validated (a malformed document fails loudly with
 * its path instead of flowing on as a wrong type), writes are typed. Timestamps are turned into Dates on read.
 */
export function zodConverter<S extends z.ZodType<Record<string, unknown>>>(schema: S): FirestoreDataConverter<z.infer<S>> {
  return {
    toFirestore(value: z.infer<S>): DocumentData {
      return value;
    },
    fromFirestore(snapshot: QueryDocumentSnapshot): z.infer<S> {
      const parsed = schema.safeParse(timestampsToDates(snapshot.data()));
      if (!parsed.success) {
        throw new Error(`Document ${snapshot.ref.path} does not match its schema: ${parsed.error.message}`);
      }
      return parsed.data;
    },
  };
}

function timestampsToDates(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toDate();
  if (Array.isArray(value)) return value.map(timestampsToDates);
  if (value && typeof value === "object" && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, timestampsToDates(inner)]));
  }
  return value;
}
