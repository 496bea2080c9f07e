import { BlockList, isIP } from 'node:net';

/**
 * Builds a predicate from a list of CIDR ranges or single addresses (`127.0.0.1`, `10.1.0.0/16`,
 * `::1`, `fd00::/8`). IPv4 clients reaching a dual-stack socket (`::ffff:10.1.2.3`) are matched
 * against the IPv4 ranges: Node's `BlockList` does that itself (test/server/allow.test.ts pins it).
 * Throws on an entry that is not an address or CIDR.
 */
export function allowList(entries: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefixText] = entry.trim().split('/');
    const family = isIP(address);
    if (family === 0) throw new TypeError(`not an IP address or CIDR range: ${JSON.stringify(entry)}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const prefix = Number(prefixText);
    const max = family === 4 ? 32 : 128;
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || prefixText.trim() === '') {
      throw new TypeError(`bad prefix length in ${JSON.stringify(entry)}`);
    }
    list.addSubnet(address, prefix, type);
  }
  return (address) => {
    if (!address) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
