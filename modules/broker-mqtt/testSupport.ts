import { chmodSync } from 'node:fs';
import type { Logger } from '../../src/index.js';
import { importPackage } from '../../src/plugins/packages.js';
import type { ServerInstance } from '../../test/servers/ServerInstance.js';
import { privateServer } from '../../test/servers/testServers.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import type { MqttModule } from './connection.js';
import { MqttBroker, type MqttBrokerOptions } from './MqttBroker.js';

/** The `mqtt` package, imported the way the plugin loader imports it for create(). */
const mqtt = (await importPackage('mqtt', process.cwd())) as MqttModule;

/** Test helper: an MqttBroker built the way the plugin's create() builds it, with short timeouts for tests. */
export function testBroker(address: string, options: Partial<MqttBrokerOptions> = {}, logger: Logger = silentLogger): MqttBroker {
  return new MqttBroker(
    mqtt,
    {
      addresses: [address],
      topicPrefix: 'tsmicro-test/',
      clientId: '',
      sessionExpiryMs: 60_000,
      keepaliveMs: 30_000,
      connectTimeoutMs: 5000,
      publishTimeoutMs: 10_000,
      ackTimeoutMs: 10_000,
      maxAttempts: 5,
      redeliveryDelayMs: 20,
      drainTimeoutMs: 2000,
      username: '',
      password: '',
      ...options,
    },
    logger,
  );
}

/**
 * A private mosquitto whose persistence really works. Started as root, mosquitto drops to the `mosquitto` user,
 * which cannot write into the root-owned 0700 directory privateServer() creates: it then logs "Error saving
 * in-memory database" and restores nothing after a restart. Opening the directory up fixes that for the test.
 */
export async function privateMosquitto(): Promise<ServerInstance> {
  const instance = await privateServer('mosquitto');
  chmodSync(instance.directory, 0o777);
  return instance;
}
