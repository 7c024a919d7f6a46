/**
 * The two client libraries the Redis tests run against, `redis` (node-redis) and `ioredis`, each
 * opened through its waitsafe adapter, and the connections a test opens, closed after it.
 */

import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterEach } from 'vitest';
import { type AdapterOptions, ioredis, nodeRedis, type RedisLike } from '../src/redis/index.js';

/** A client of one library, opened for a test: its adapter and how to close it. */
export interface Connection {
  redis: RedisLike;
  close(): Promise<void>;
}

export interface ClientKind {
  name: string;
  open(url: string, options?: AdapterOptions): Promise<Connection>;
}

export const CLIENTS: ClientKind[] = [
  {
    name: 'redis',
    async open(url, options) {
      const client = createClient({ url });
      client.on('error', () => {});
      await client.connect();
      return {
        redis: nodeRedis(client, options),
        close: async () => {
          await client.close();
        },
      };
    },
  },
  {
    name: 'ioredis',
    async open(url, options) {
      const client = new Redis(url, { lazyConnect: true });
      client.on('error', () => {});
      await client.connect();
      return {
        redis: ioredis(client, options),
        close: async () => {
          await client.quit();
        },
      };
    },
  },
];

/**
 * Returns `open`, which opens a connection of `kind` to the server at `url()` and gives its
 * adapter; every connection it opened is closed after each test. Call it in a `describe` body.
 */
export function connectionsOf(kind: ClientKind, url: () => string): (options?: AdapterOptions) => Promise<RedisLike> {
  const opened: Connection[] = [];
  afterEach(async () => {
    for (const connection of opened.splice(0)) await connection.close();
  });
  return async (options) => {
    const connection = await kind.open(url(), options);
    opened.push(connection);
    return connection.redis;
  };
}
