import { connect } from 'node:net';
import { cpus, release, totalmem, type as osType } from 'node:os';

export interface MachineDescription {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  natsServer: string;
  redisServer: string;
}

/** Opens a socket, optionally writes, and returns what the server says first (bounded in time). */
function firstAnswer(url: string, defaultPort: number, request: string | undefined, pattern: RegExp): Promise<string> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: target.hostname, port: Number(target.port || defaultPort) });
    let text = '';
    const done = (value: string): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(2000, () => done('unknown (no answer)'));
    socket.on('error', (error) => done(`unknown (${error.message})`));
    socket.on('connect', () => request && socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match) done(match[1]!);
    });
  });
}

export async function describeMachine(natsUrl: string, redisUrl: string): Promise<MachineDescription> {
  const [natsServer, redisServer] = await Promise.all([
    firstAnswer(natsUrl, 4222, undefined, /"version":"([^"]+)"/),
    firstAnswer(redisUrl, 6379, 'INFO server\r\n', /redis_version:([^\r\n]+)/),
  ]);
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    natsServer: `nats-server ${natsServer}`,
    redisServer: `redis-server ${redisServer}`,
  };
}
