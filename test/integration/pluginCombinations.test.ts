import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { ConsulDouble } from '../consul/ConsulDouble.js';
import { distPath, NodeProcess } from '../helpers/childProcess.js';
import { uniqueName } from '../helpers/eventually.js';
import { requireServer } from '../servers/testServers.js';

/**
 * The greeter example's two processes, unchanged, on plugin combinations chosen purely by environment variables:
 * the same compiled code that runs on the defaults finds, calls and publishes through real servers.
 */
const [nats, rabbitmq, redis, etcd, mosquitto, kafka] = await Promise.all(['nats', 'rabbitmq', 'redis', 'etcd', 'mosquitto', 'kafka'].map((name) => requireServer(name)));
const available = [nats, rabbitmq, redis, etcd, mosquitto, kafka].every((server) => server.available);
const suite = available ? describe : [nats, rabbitmq, redis, etcd, mosquitto, kafka].find((server) => !server.available)!.describe;

suite('the greeter example on plugin combinations chosen by config', () => {
  const processes: NodeProcess[] = [];
  const consul = new ConsulDouble();
  afterEach(async () => {
    for (const started of processes.splice(0)) {
      started.kill('SIGKILL');
      await started.exited();
    }
  });
  afterAll(() => consul.close());

  async function runExample(env: NodeJS.ProcessEnv): Promise<void> {
    const withLogs = { MICRO_LOG_LEVEL: 'warn', ...env };
    const server = new NodeProcess(distPath('examples', 'greeter', 'server.js'), [], withLogs);
    processes.push(server);
    await server.waitFor(/^ready /, 30_000);
    const client = new NodeProcess(distPath('examples', 'greeter', 'client.js'), [], withLogs);
    processes.push(client);
    const { code } = await client.exited();
    expect({ code, stderr: client.stderr.slice(0, 2000) }).toEqual({ code: 0, stderr: '' });
    expect(client.lines).toContain('[client] Greeter.sayHello -> {"greeting":"Hello, Ada! (asked by example-client)"}');
    expect(client.lines.some((line) => line.startsWith('[client] invalid request -> 400'))).toBe(true);
    await server.waitFor(/event greeter.greeted: Ada \(metadata x-caller=example-client\)/, 20_000);
    await server.waitFor(/event greeter.greeted: Grace \(metadata x-caller=example-client\)/, 20_000);
    server.kill('SIGTERM');
    expect((await server.exited()).code).toBe(0);
  }

  it('etcd registry + RabbitMQ transport + NATS broker', async () => {
    await runExample({
      MICRO_REGISTRY: 'etcd',
      MICRO_REGISTRY_ADDRESS: etcd.address,
      MICRO_REGISTRY_ETCD_PREFIX: `/${uniqueName('combo')}/`,
      MICRO_TRANSPORT: 'rabbitmq',
      MICRO_TRANSPORT_ADDRESS: rabbitmq.address,
      MICRO_BROKER: 'nats',
      MICRO_BROKER_ADDRESS: nats.address,
      MICRO_BROKER_NATS_SUBJECT_PREFIX: uniqueName('combo'),
    });
  }, 90_000);

  it('NATS registry + NATS transport + RabbitMQ broker', async () => {
    await runExample({
      MICRO_REGISTRY: 'nats',
      MICRO_REGISTRY_ADDRESS: nats.address,
      MICRO_REGISTRY_NATS_PREFIX: uniqueName('combo'),
      MICRO_TRANSPORT: 'nats',
      MICRO_TRANSPORT_ADDRESS: nats.address,
      MICRO_BROKER: 'rabbitmq',
      MICRO_BROKER_ADDRESS: rabbitmq.address,
      MICRO_BROKER_RABBITMQ_EXCHANGE: uniqueName('combo'),
    });
  }, 90_000);

  it('Redis registry + TCP transport + Redis broker', async () => {
    await runExample({
      MICRO_REGISTRY: 'redis',
      MICRO_REGISTRY_ADDRESS: redis.address,
      MICRO_REGISTRY_REDIS_PREFIX: `${uniqueName('combo')}:`,
      MICRO_BROKER: 'redis',
      MICRO_BROKER_ADDRESS: redis.address,
      MICRO_BROKER_REDIS_PREFIX: `${uniqueName('combo')}:`,
    });
  }, 90_000);

  it('Consul registry (agent double) + TCP transport + MQTT broker', async () => {
    await runExample({
      MICRO_REGISTRY: 'consul',
      MICRO_REGISTRY_ADDRESS: await consul.listen(),
      MICRO_BROKER: 'mqtt',
      MICRO_BROKER_ADDRESS: mosquitto.address,
      MICRO_BROKER_MQTT_TOPIC_PREFIX: `${uniqueName('combo')}/`,
    });
  }, 90_000);

  it('file registry + TCP transport + Kafka broker', async () => {
    await runExample({
      MICRO_REGISTRY_ADDRESS: `/tmp/${uniqueName('combo-registry')}`,
      MICRO_BROKER: 'kafka',
      MICRO_BROKER_ADDRESS: kafka.address,
    });
  }, 120_000);
});
