// The slice of facebook-nodejs-business-sdk (which ships no type definitions) that graph-client.ts uses.
declare module "facebook-nodejs-business-sdk" {
  export class FacebookAdsApi {
    static readonly VERSION: string;
    /** `crashLog` false keeps the SDK's crash reporter (an uncaughtException hook posting to Graph) off. */
    constructor(accessToken: string, locale?: string, crashLog?: boolean);
    call(
      method: "GET" | "POST" | "DELETE",
      path: string[],
      params?: Record<string, string | number>,
      files?: Record<string, never>,
      useMultipartFormData?: boolean,
      urlOverride?: string,
    ): Promise<unknown>;
  }
}
