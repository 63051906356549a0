import { ContainerModule, ConfigError, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { AccessPolicy } from './AccessPolicy.js';
import { addressListFormat, AddressSet, entriesOf } from './addressEntries.js';
import type { ForwardedHeaderName } from './clientAddress.js';
import { IpWhitelistPlugin } from './IpWhitelistPlugin.js';

type AddressList = readonly string[] | string | null;

export interface IpWhitelistOptions {
  allow: AddressList;
  legacyAllow: AddressList;
  trustedProxies: AddressList;
  forwardedHeader: ForwardedHeaderName;
}

/**
 * `gateway.plugins: [ipwhitelist]`: go-micro's ip_whitelist (ip_allow) plugin. Only clients whose address is in
 * `allow` reach the gateway; the forwarding header counts only when the socket's peer is a trusted proxy. Unlike
 * go-micro, an empty or missing list is a config error at boot rather than a gateway that refuses everyone.
 */
export default definePlugin<IpWhitelistOptions>({
  name: 'ipwhitelist',
  kind: 'gateway',
  description: 'Only clients whose IP address is in an allow list (IPv4, IPv6, CIDR ranges) reach the gateway; forwarding headers trusted only from listed proxies',
  provides: ['GatewayPlugin'],
  core: `^${CORE_VERSION}`,
  options: {
    allow: { doc: 'IP addresses and CIDR ranges allowed to use the gateway (comma-separated in env)', format: addressListFormat({ required: true }), default: null, env: 'MICRO_API_IP_WHITELIST' },
    legacyAllow: { doc: "go-micro's variable for the same list; read only when allow is not set", format: addressListFormat({ required: true }), default: null, env: 'IP_WHITELIST' },
    trustedProxies: { doc: 'IP addresses and CIDR ranges of proxies whose forwarding header is believed', format: addressListFormat({ required: false }), default: null, env: 'MICRO_API_TRUSTED_PROXIES' },
    forwardedHeader: { doc: 'The header trusted proxies write the client address into', format: ['x-forwarded-for', 'forwarded'], default: 'x-forwarded-for', env: 'MICRO_API_FORWARDED_HEADER' },
  },
  create({ options }) {
    const allowValue = options.allow ?? options.legacyAllow;
    if (allowValue === null) {
      throw new ConfigError(
        'CONFIG_INVALID_VALUE',
        "gateway.ipwhitelist.allow is not set: list the IP addresses and CIDR ranges allowed to use the gateway (env MICRO_API_IP_WHITELIST, or go-micro's IP_WHITELIST); without a list every request would be refused",
      );
    }
    const policy = new AccessPolicy(new AddressSet(entriesOf(allowValue)), new AddressSet(entriesOf(options.trustedProxies ?? [])), options.forwardedHeader);
    return new ContainerModule(({ bind }) => {
      bind(Tokens.GatewayPlugin)
        .toDynamicValue((context) => {
          const logger = context.get(Tokens.Logger).child({ component: 'gateway', plugin: 'ipwhitelist' });
          if (options.allow !== null && options.legacyAllow !== null) logger.warn('IP_WHITELIST is ignored: gateway.ipwhitelist.allow (MICRO_API_IP_WHITELIST) is set and wins');
          return new IpWhitelistPlugin(policy, logger);
        })
        .inSingletonScope();
    });
  },
});
