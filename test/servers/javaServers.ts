import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerDefinition } from './definitions.js';
import { cacheDirectory, resolveJars } from './maven.js';
import { httpProbe, tcpProbe } from './probes.js';

const KAFKA_VERSION = '4.4.0';
const FABRIC8_VERSION = '8.0.0';

function kafkaLibs(): string {
  return resolveJars(`kafka-${KAFKA_VERSION}`, [
    { group: 'org.apache.kafka', artifact: 'kafka_2.13', version: KAFKA_VERSION },
    // Kafka logs through SLF4J 1; without a binding its errors would vanish.
    { group: 'org.apache.logging.log4j', artifact: 'log4j-slf4j-impl', version: '2.25.5' },
  ]);
}

/** An ApiVersions v0 request: any Kafka broker answers it, echoing correlation id 7. */
const API_VERSIONS = Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 7, 0, 0]);

/**
 * A random cluster id as Kafka writes them (16 bytes, base64url). One that starts with '-' is drawn again:
 * StorageTool's argument parser would read it as an option (Kafka's own Uuid.randomUuid skips those too).
 */
export function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Apache Kafka in KRaft mode (one node, broker and controller), its jars from Maven Central. */
export const kafka: ServerDefinition = {
  name: 'kafka',
  packages: [],
  binary: 'java',
  defaultPort: 9092,
  addressEnv: 'KAFKA_ADDRESS',
  ensure: () => void kafkaLibs(),
  command: (port, directory) => {
    const libs = kafkaLibs();
    const properties = join(directory, 'server.properties');
    writeFileSync(
      properties,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${port + 1}`,
        `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${port + 1}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        'inter.broker.listener.name=PLAINTEXT',
        `log.dirs=${join(directory, 'data')}`,
        'offsets.topic.replication.factor=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'share.coordinator.state.topic.replication.factor=1',
        'share.coordinator.state.topic.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        'num.partitions=4',
        'auto.create.topics.enable=true',
        '',
      ].join('\n'),
    );
    // Storage is formatted once per data directory; a restart keeps the data (and the committed offsets).
    if (!existsSync(join(directory, 'data', 'meta.properties'))) {
      const args = ['-cp', `${libs}/*`, 'kafka.tools.StorageTool', 'format', '-t', kafkaClusterId(), '-c', properties];
      try {
        execFileSync('java', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (error) {
        const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
        throw new Error(`formatting Kafka storage in ${directory} failed: ${stderr || (error as Error).message}`);
      }
    }
    return { command: 'java', args: ['-Xms256m', '-Xmx768m', '-cp', `${libs}/*`, 'kafka.Kafka', properties] };
  },
  probe: async (port) => {
    const answer = await tcpProbe(port, API_VERSIONS, 2000);
    if (answer.length < 8 || answer.readInt32BE(4) !== 7) throw new Error('not a Kafka broker');
  },
  docker: 'docker run -d -p 127.0.0.1:9092:9092 apache/kafka:4.4.0',
  startTimeoutMs: 90_000,
};

function mockServerClasses(): { libs: string; classes: string } {
  const libs = resolveJars(`fabric8-mock-${FABRIC8_VERSION}`, [
    { group: 'io.fabric8', artifact: 'kubernetes-server-mock', version: FABRIC8_VERSION },
    { group: 'io.fabric8', artifact: 'kubernetes-client', version: FABRIC8_VERSION },
    { group: 'org.slf4j', artifact: 'slf4j-simple', version: '2.0.17' },
  ]);
  const classes = join(cacheDirectory(), `fabric8-mock-${FABRIC8_VERSION}`, 'classes');
  if (!existsSync(join(classes, 'MockApiServer.class'))) {
    // The launcher's source sits next to this file in the repository (test/servers/java), also when running from dist/.
    const here = dirname(fileURLToPath(import.meta.url));
    const source = [join(here, 'java', 'MockApiServer.java'), join(here, '..', '..', '..', 'test', 'servers', 'java', 'MockApiServer.java')].find(existsSync)!;
    mkdirSync(classes, { recursive: true });
    execFileSync('javac', ['-cp', `${libs}/*`, '-d', classes, source], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return { libs, classes };
}

/** fabric8's Kubernetes mock API server in CRUD mode, standing in for a cluster's API server. */
export const kubernetes: ServerDefinition = {
  name: 'kubernetes',
  packages: ['kubectl'],
  binary: 'kubectl',
  defaultPort: 6443,
  addressEnv: 'KUBERNETES_MOCK_ADDRESS',
  ensure: () => void mockServerClasses(),
  command: (port) => {
    const { libs, classes } = mockServerClasses();
    return { command: 'java', args: ['-Xms64m', '-Xmx256m', '-cp', `${classes}:${libs}/*`, 'MockApiServer', String(port)] };
  },
  probe: async (port) => {
    const answer = await httpProbe(port, '/api/v1/namespaces/default/pods');
    if (!answer.includes('"kind"')) throw new Error('not a Kubernetes API');
  },
  docker: '(no container: a real cluster, or kind/minikube, plays this part)',
  startTimeoutMs: 60_000,
};
