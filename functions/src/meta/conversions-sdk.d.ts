// The Conversions API slice of facebook-nodejs-business-sdk (which ships no type definitions) that meta/conversions.ts
// uses; it merges with the Graph slice declared in social/facebook-sdk.d.ts.
declare module "facebook-nodejs-business-sdk" {
  export class UserData {
    setExternalId(externalId: string): UserData;
    setEmail(email: string): UserData;
  }
  export class CustomData {
    setValue(value: number): CustomData;
    setCurrency(currency: string): CustomData;
  }
  export class ExtendedDeviceInfo {
    /** The 16 extinfo values in Meta's order (version, package name, …); placeholders are empty strings. */
    constructor(...values: string[]);
    setExtInfoVersion(version: string): ExtendedDeviceInfo;
  }
  export class AppData {
    setAdvertiserTrackingEnabled(enabled: boolean): AppData;
    setApplicationTrackingEnabled(enabled: boolean): AppData;
    setExtinfo(extinfo: ExtendedDeviceInfo): AppData;
  }
  export class ServerEvent {
    setEventName(name: string): ServerEvent;
    /** Unix seconds. */
    setEventTime(time: number): ServerEvent;
    setEventId(id: string): ServerEvent;
    setActionSource(source: string): ServerEvent;
    setUserData(userData: UserData): ServerEvent;
    setCustomData(customData: CustomData): ServerEvent;
    setAppData(appData: AppData): ServerEvent;
  }
  /** The SDK's transport seam: `execute()` hands it the URL, headers and the JSON parameters (token included). */
  export interface HttpServiceInterface {
    executeRequest(url: string, method: string, headers: Record<string, string>, params: Record<string, unknown>): Promise<unknown>;
  }
  export class EventRequest {
    constructor(accessToken: string, pixelId: string);
    setEvents(events: ServerEvent[]): EventRequest;
    setTestEventCode(code: string): EventRequest;
    setHttpService(service: HttpServiceInterface): EventRequest;
    execute(): Promise<unknown>;
  }
  export class CrashReporter {
    static disable(): void;
  }
}
