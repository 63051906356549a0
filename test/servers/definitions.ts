import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafka, kubernetes } from './javaServers.js';
import { httpProbe, tcpProbe } from './probes.js';

/** How to install, start and probe one kind of server, on a port and a data directory of the caller's choosing. */
export interface ServerDefinition {
  name: string;
  /** Debian packages that provide it. */
  packages: string[];
  /** The executable whose presence means it is installed. */
  binary: string;
  /** For servers that are not Debian packages: fetches what they need (jars) into the cache, idempotently. */
  ensure?(): void;
  defaultPort: number;
  /** The env var tests read the address from, e.g. NATS_ADDRESS. */
  addressEnv: string;
  /** The command that runs it in the foreground, and its environment. */
  command(port: number, directory: string): { command: string; args: string[]; env?: Record<string, string> };
  /** Resolves when the server answers its protocol; rejects otherwise. */
  probe(port: number): Promise<void>;
  /** The equivalent container, for the README. */
  docker: string;
  startTimeoutMs: number;
}

const expectPrefix = async (port: number, hello: string | Buffer | undefined, prefix: string | number): Promise<void> => {
  const answer = await tcpProbe(port, hello);
  const ok = typeof prefix === 'number' ? answer[0] === prefix : answer.toString('latin1').startsWith(prefix);
  if (!ok) throw new Error(`unexpected answer on port ${port}: ${JSON.stringify(answer.subarray(0, 40).toString('latin1'))}`);
};

export const SERVERS: Record<string, ServerDefinition> = {
  nats: {
    name: 'nats',
    packages: ['nats-server'],
    binary: 'nats-server',
    defaultPort: 4222,
    addressEnv: 'NATS_ADDRESS',
    command: (port, directory) => ({ command: 'nats-server', args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(directory, 'jetstream')] }),
    // The server speaks first: an INFO line.
    probe: (port) => expectPrefix(port, '', 'INFO'),
    docker: 'docker run -d -p 127.0.0.1:4222:4222 nats:2 -js',
    startTimeoutMs: 15_000,
  },
  redis: {
    name: 'redis',
    packages: ['redis-server'],
    binary: 'redis-server',
    defaultPort: 6379,
    addressEnv: 'REDIS_ADDRESS',
    // Append-only persistence, so events acknowledged by Redis survive a restart of the server.
    command: (port, directory) => ({ command: 'redis-server', args: ['--bind', '127.0.0.1', '--port', String(port), '--dir', directory, '--appendonly', 'yes', '--save', '', '--daemonize', 'no'] }),
    probe: (port) => expectPrefix(port, 'PING\r\n', '+PONG'),
    docker: 'docker run -d -p 127.0.0.1:6379:6379 redis:7 --appendonly yes',
    startTimeoutMs: 15_000,
  },
  mosquitto: {
    name: 'mosquitto',
    packages: ['mosquitto'],
    binary: 'mosquitto',
    defaultPort: 1883,
    addressEnv: 'MQTT_ADDRESS',
    command: (port, directory) => {
      const config = join(directory, 'mosquitto.conf');
      // Started as root, mosquitto drops to the mosquitto user, which cannot write a root-owned data directory:
      // persistence would then silently do nothing. Staying root keeps it working.
      const user = process.getuid?.() === 0 ? ['user root'] : [];
      writeFileSync(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${directory}/`, 'log_dest stdout', ...user, ''].join('\n'));
      return { command: 'mosquitto', args: ['-c', config] };
    },
    // An MQTT 3.1.1 CONNECT; a broker answers with CONNACK (0x20).
    probe: (port) => expectPrefix(port, Buffer.from([0x10, 0x10, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x04, 0x70, 0x72, 0x6f, 0x62]), 0x20),
    docker: 'docker run -d -p 127.0.0.1:1883:1883 eclipse-mosquitto:2 mosquitto -c /mosquitto-no-auth.conf',
    startTimeoutMs: 15_000,
  },
  etcd: {
    name: 'etcd',
    packages: ['etcd-server', 'etcd-client'],
    binary: 'etcd',
    defaultPort: 2379,
    addressEnv: 'ETCD_ADDRESS',
    command: (port, directory) => {
      const peer = `http://127.0.0.1:${port + 1}`;
      return {
        command: 'etcd',
        args: [
          '--name', 'tsmicro', '--data-dir', join(directory, 'data'),
          '--listen-client-urls', `http://127.0.0.1:${port}`, '--advertise-client-urls', `http://127.0.0.1:${port}`,
          '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `tsmicro=${peer}`,
        ],
        env: { ETCD_UNSUPPORTED_ARCH: process.arch === 'x64' ? '' : process.arch },
      };
    },
    probe: async (port) => {
      const health = await httpProbe(port, '/health');
      if (!health.includes('"true"')) throw new Error(`etcd not healthy: ${health}`);
    },
    docker: 'docker run -d -p 127.0.0.1:2379:2379 quay.io/coreos/etcd:v3.4.23 etcd --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls http://127.0.0.1:2379',
    startTimeoutMs: 20_000,
  },
  rabbitmq: {
    name: 'rabbitmq',
    packages: ['rabbitmq-server'],
    binary: '/usr/lib/rabbitmq/bin/rabbitmq-server',
    defaultPort: 5672,
    addressEnv: 'RABBITMQ_ADDRESS',
    command: (port, directory) => {
      writeFileSync(join(directory, 'enabled_plugins'), '[].\n');
      return {
        command: '/usr/lib/rabbitmq/bin/rabbitmq-server',
        args: [],
        env: {
          HOME: directory,
          RABBITMQ_NODENAME: `tsmicro${port}@localhost`,
          RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
          RABBITMQ_NODE_PORT: String(port),
          RABBITMQ_DIST_PORT: String(port + 20000),
          ERL_EPMD_ADDRESS: '127.0.0.1',
          RABBITMQ_MNESIA_BASE: join(directory, 'mnesia'),
          RABBITMQ_LOG_BASE: join(directory, 'log'),
          RABBITMQ_ENABLED_PLUGINS_FILE: join(directory, 'enabled_plugins'),
          RABBITMQ_CONFIG_FILE: join(directory, 'rabbitmq'),
        },
      };
    },
    // The AMQP 0-9-1 protocol header; a broker answers with a method frame (type 1).
    probe: (port) => expectPrefix(port, Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'), 1),
    docker: 'docker run -d -p 127.0.0.1:5672:5672 rabbitmq:3',
    startTimeoutMs: 60_000,
  },
};

SERVERS.kafka = kafka;
SERVERS.kubernetes = kubernetes;

export function serverNamed(name: string): ServerDefinition {
  const definition = SERVERS[name];
  if (!definition) throw new Error(`unknown server "${name}"; known: ${Object.keys(SERVERS).join(', ')}`);
  return definition;
}
