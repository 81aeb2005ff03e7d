// Apollo Client and urql, as a web or React Native app sets them up, against /graphql; prints one JSON line per
// check for the Python test (tests/schema/test_clients.py) to read.
//
//   node apps.mjs '{"url": "http://…/graphql", "token": "…"}'
import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { Client, cacheExchange, fetchExchange } from '@urql/core';

const config = JSON.parse(process.argv[2]);
const emit = (check, value) => process.stdout.write(`${JSON.stringify({ check, ...value })}\n`);
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const REGIONS = gql`query Regions { regions { edges { node { code name } } } }`;
const INVALID = gql`query Broken { regions { edges { node { nope } } } }`;
const ME = gql`query Me { me { phone } }`;

function apollo({ token, get = false } = {}) {
  const http = new HttpLink({
    uri: config.url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    useGETForQueries: get,
  });
  const persisted = new PersistedQueryLink({ sha256, useGETForHashedQueries: true });
  return new ApolloClient({ link: ApolloLink.from([persisted, http]), cache: new InMemoryCache() });
}

async function outcome(run) {
  try {
    const result = await run();
    return { data: result.data ?? null, error: result.error ? describe(result.error) : null };
  } catch (error) {
    return { data: null, error: describe(error) };
  }
}

function describe(error) {
  if (CombinedGraphQLErrors.is(error)) {
    return { kind: 'graphql', codes: error.errors.map((e) => e.extensions?.code ?? null) };
  }
  if (error?.graphQLErrors?.length) {  // urql's CombinedError
    return { kind: 'graphql', codes: error.graphQLErrors.map((e) => e.extensions?.code ?? null) };
  }
  return { kind: error?.name ?? 'unknown', message: String(error?.message ?? error) };
}

const client = apollo();
emit('apollo-apq-first', await outcome(() => client.query({ query: REGIONS, fetchPolicy: 'network-only' })));
emit('apollo-apq-again', await outcome(() => apollo().query({ query: REGIONS, fetchPolicy: 'network-only' })));
emit('apollo-get', await outcome(() => apollo({ get: true }).query({ query: REGIONS, fetchPolicy: 'network-only' })));
emit('apollo-invalid', await outcome(() => client.query({ query: INVALID, fetchPolicy: 'network-only' })));
emit('apollo-bad-token', await outcome(() => apollo({ token: 'nonsense' }).query({ query: ME })));
emit('apollo-signed-in', await outcome(() => apollo({ token: config.token }).query({ query: ME })));

const urql = new Client({ url: config.url, exchanges: [cacheExchange, fetchExchange] });
emit('urql-query', await outcome(() => urql.query(REGIONS, {}).toPromise()));
emit('urql-invalid', await outcome(() => urql.query(INVALID, {}).toPromise()));
const urqlBad = new Client({
  url: config.url,
  exchanges: [fetchExchange],
  fetchOptions: { headers: { authorization: 'Bearer nonsense' } },
});
emit('urql-bad-token', await outcome(() => urqlBad.query(ME, {}).toPromise()));
