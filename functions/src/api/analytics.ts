import type { CloudEvent } from "firebase-functions/v2";
import type { MessagePublishedData } from "firebase-functions/v2/pubsub";
import { handleConversionsMessage } from "../analytics/conversions";
import { isEmulator } from "../lib/env";
import { sdkConversionsApi } from "../meta/conversions";
import type { ConversionsApi } from "../meta/conversions";
import { graphBaseUrl } from "../social/graph-client";
import { baseDeps } from "./deps";
import { metaConversionsAccessToken, metaDatasetId, metaTestEventCode } from "./params";

/** Ads attribution (docs/analytics.md): the Conversions API, or null (off) while no dataset or token is configured. */
export function conversionsApi(): ConversionsApi | null {
  const datasetId = metaDatasetId.value().trim();
  const accessToken = metaConversionsAccessToken.value().trim();
  if (!datasetId || !accessToken) return null;
  return sdkConversionsApi({ datasetId, accessToken, testEventCode: metaTestEventCode.value().trim() || null, baseUrl: graphBaseUrl(isEmulator()) });
}

export async function conversionsOnDomainEvent(event: CloudEvent<MessagePublishedData>): Promise<void> {
  const { messageId, data, attributes } = event.data.message;
  await handleConversionsMessage({ ...baseDeps(), api: conversionsApi() }, { messageId, data, attributes });
}
