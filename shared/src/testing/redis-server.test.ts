import { connect } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { privateRedis, randomSecret, type PrivateRedis } from "./index.js";

describe("privateRedis with a password", () => {
  const password = randomSecret("redis");
  let server: PrivateRedis;

  beforeAll(async () => {
    server = await privateRedis({ password });
    await server.start();
  });
  afterAll(() => server.stop());

  const client = (url: string) =>
    new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });

  it("answers a client whose URL carries the password", async () => {
    expect(server.url).toBe(`redis://:${password}@127.0.0.1:${server.port}`);
    const redis = client(server.url);
    await redis.connect();
    expect(await redis.ping()).toBe("PONG");
    redis.disconnect();
  });

  it("refuses a client without it", async () => {
    // Over a bare socket: ioredis 6 opens with HELLO, which fails before any command can.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1", () => socket.write("PING\r\n"));
      socket.once("data", (data) => {
        resolve(data.toString());
        socket.destroy();
      });
      socket.once("error", reject);
    });
    expect(answer).toMatch(/^-NOAUTH/);
  });
});
