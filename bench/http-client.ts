/**
 * The load side of `bench:http`, in its own process (forked by bench/http.ts) so that building requests and
 * parsing answers never runs on the event loop whose delay the bench reports. It receives one case at a time
 * over IPC, answers 'ready', drives it with autocannon on 'go' and sends back the counts.
 */
import autocannon from 'autocannon';

export interface ClientCase {
  url: string;
  /** Request bodies, used in turn (the n-th request gets bodies[n % length], with `${n}` in place of `{n}`). */
  bodies: string[];
  connections: number;
  duration: number;
}

export interface ClientResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  statuses: Record<string, number>;
  withRetryAfter: number;
}

async function drive({ url, bodies, connections, duration }: ClientCase): Promise<ClientResult> {
  let request = 0;
  const statuses = new Map<number, number>();
  let withRetryAfter = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => {
          const n = request++;
          return { ...req, body: bodies[n % bodies.length]!.replace('{n}', String(n)) };
        },
      },
    ],
    setupClient: (client) => {
      // At run time autocannon passes http-parser's record, whose `headers` is [name, value, name, value, …].
      client.on('headers', (parsed) => {
        const fields = (parsed as { headers?: unknown }).headers;
        if (Array.isArray(fields) && fields.some((field, i) => i % 2 === 0 && String(field).toLowerCase() === 'retry-after')) withRetryAfter++;
      });
      client.on('response', (statusCode: number) => statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1));
    },
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    statuses: Object.fromEntries(statuses),
    withRetryAfter,
  };
}

/** A case arrives first (its bodies can be megabytes: not sent while the server's event loop is measured), then 'go'. */
let pending: ClientCase | undefined;
process.on('message', (message: ClientCase | 'go' | 'exit') => {
  if (message === 'exit') process.exit(0);
  if (message !== 'go') {
    pending = message;
    process.send!('ready');
    return;
  }
  drive(pending!).then(
    (result) => process.send!(result),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
