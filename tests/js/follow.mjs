// Follows one GraphQL subscription with the `graphql-ws` client, as a React Native app (or Apollo's GraphQLWsLink,
// or urql's subscriptionExchange, which both use it) would, and reports what happens as JSON lines on stdout.
//
//   node follow.mjs '{"url": "ws://…/graphql", "tokenFile": "…", "query": "subscription …", "variables": {},
//                     "retryWaitMs": 1000}'
//
// The access token is read from `tokenFile` every time the client (re)connects — the app refreshing its token —
// and the last notification id received is passed as `lastNotificationId`, so the server replays what was missed.
import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const config = JSON.parse(process.argv[2]);
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
let lastNotificationId = config.lastNotificationId ?? null;
let connects = 0;

const client = createClient({
  url: config.url,
  webSocketImpl: WebSocket,
  retryAttempts: config.retryAttempts ?? 5,
  retryWait: () => new Promise((resolve) => setTimeout(resolve, config.retryWaitMs ?? 1000)),
  connectionParams: () => {
    connects += 1;
    const token = readFileSync(config.tokenFile, 'utf8').trim();
    emit({ event: 'connectionParams', n: connects, lastNotificationId });
    const params = token ? { authorization: `Bearer ${token}` } : {};
    return lastNotificationId ? { ...params, lastNotificationId } : params;
  },
  on: {
    connected: () => emit({ event: 'connected' }),
    closed: (event) => emit({ event: 'closed', code: event.code }),
    ping: (received) => received && emit({ event: 'ping' }),
  },
});

client.subscribe(
  { query: config.query, variables: config.variables ?? {} },
  {
    next: (result) => {
      const update = Object.values(result.data ?? {})[0];
      if (update?.notificationId) lastNotificationId = update.notificationId;
      emit({ event: 'next', result });
    },
    error: (error) => {
      emit({ event: 'error', code: error?.code ?? null, error: error?.message ?? JSON.stringify(error) });
      process.exit(0);
    },
    complete: () => emit({ event: 'complete' }),
  },
);
