/** What an HTTP handler of ours needs of the response (express's Response has it). */
export interface HttpResponse {
  status(code: number): { json(body: unknown): unknown };
}
