/**
 * The few calls of the public API the CLI makes, over HTTP, so it works against any running server (or
 * replica) exactly as any client does. A `503 OVERLOADED` is retried after its Retry-After; an unreachable
 * server is a CliError (nothing to retry file by file).
 */
import type { Envelope } from '../http/envelope.js';
import { CliError } from './cli-error.js';

/** A non-zero envelope: the server refused the request. */
export class ApiRefusal extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
  ) {
    super(`${msg} (${code})`);
    this.name = 'ApiRefusal';
  }
}

export interface RegisteredFace {
  id: number;
  imageId: string;
  faceToken: string;
}

export interface StoredImage {
  faceToken: string[];
}

export interface GroupSummary {
  groupId: string;
  groupName: string;
}

const OVERLOADED = 503;
const UNAUTHORIZED = 401;
const FORBIDDEN = 403;
const MAX_OVERLOAD_RETRIES = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ApiClient {
  private readonly headers: Record<string, string>;

  /** `apiKey` is sent as X-Api-Key, for servers with access control on (VISAGE_AUTH=on). */
  constructor(
    private readonly baseUrl: string,
    apiKey?: string,
  ) {
    this.headers = { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) };
  }

  registerFace(body: { image: string; description: string; imageMd5: string; name: string; gender: string }) {
    return this.call<RegisteredFace>('POST', '/api/faces', body);
  }

  getImage(imageId: string) {
    return this.call<StoredImage>('GET', `/api/faces/image/${encodeURIComponent(imageId)}`);
  }

  bind(faceToken: string, groupIds: string[]) {
    return this.call<object>('POST', `/api/faceGroups/binding/${encodeURIComponent(faceToken)}`, { faceGroupList: groupIds });
  }

  async listGroups(): Promise<GroupSummary[]> {
    return (await this.call<{ faceGroupList: GroupSummary[] }>('GET', '/api/faceGroups')).faceGroupList;
  }

  createGroup(groupId: string, groupName: string) {
    return this.call<object>('POST', '/api/faceGroups', { groupId, groupName });
  }

  /** The `data` of a success envelope; throws ApiRefusal for any other code. */
  private async call<Data>(method: string, path: string, body?: unknown): Promise<Data> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: this.headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
        throw new CliError(`cannot reach the Visage server at ${this.baseUrl} (${cause}); start it with \`visage serve\``);
      }
      if (response.status === OVERLOADED && attempt < MAX_OVERLOAD_RETRIES) {
        await response.body?.cancel();
        await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000);
        continue;
      }
      let envelope: Envelope<object>;
      try {
        envelope = (await response.json()) as Envelope<object>;
      } catch {
        throw new CliError(`${method} ${this.baseUrl}${path} answered HTTP ${response.status} without a Visage envelope`);
      }
      if (envelope.code === UNAUTHORIZED || envelope.code === FORBIDDEN) {
        throw new CliError(`${this.baseUrl} refused the API key (${envelope.msg}): pass a key with write scope (--api-key or VISAGE_API_KEY)`);
      }
      if (envelope.code !== 0) throw new ApiRefusal(envelope.code, envelope.msg);
      return envelope.data as Data;
    }
  }
}
