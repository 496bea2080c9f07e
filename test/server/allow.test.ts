/**
 * The `allow` list: which client addresses a prefix admits (full-length prefixes included), which
 * entries are refused when the server is built, and how IPv4 clients seen through a dual-stack
 * socket (`::ffff:a.b.c.d`) are matched.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowList } from '../../src/server/allow.js';
import { FastAgiServer } from '../../src/server/fastagi-server.js';
import { FakeCall } from '../../src/testing/fake-asterisk.js';
import { closed, quiet } from '../support/fake-server.js';
import { nextEvent } from '../support/settle.js';

/** Asserts, for each address, whether the list admits it. */
function assertAdmits(entries: readonly string[], expected: Record<string, boolean>): void {
  const allowed = allowList(entries);
  const actual = Object.fromEntries(Object.keys(expected).map((address) => [address, allowed(address)]));
  assert.deepEqual(actual, expected, `allow ${JSON.stringify(entries)}`);
}

describe('allow list', () => {
  it('a full-length prefix (/32, /128) admits exactly that address', () => {
    assertAdmits(['10.1.2.3/32'], { '10.1.2.3': true, '10.1.2.2': false, '10.1.2.4': false, '10.1.3.3': false, '11.1.2.3': false });
    assertAdmits(['::1/128'], { '::1': true, '0:0:0:0:0:0:0:1': true, '::2': false, '::': false, '1::1': false });
  });

  it('shorter prefixes admit their range, /0 everything of its family; a single address is itself', () => {
    assertAdmits(['10.1.0.0/16'], { '10.1.0.0': true, '10.1.255.255': true, '10.0.255.255': false, '10.2.0.0': false });
    assertAdmits(['fd00::/8'], { 'fd12:3456::1': true, 'fe00::1': false });
    assertAdmits(['0.0.0.0/0'], { '1.2.3.4': true, '255.255.255.255': true, '::1': false });
    assertAdmits([' 192.0.2.7 ', '::2'], { '192.0.2.7': true, '192.0.2.8': false, '::2': true, '::3': false });
  });

  it('admits no client without a readable address', () => {
    assertAdmits(['0.0.0.0/0', '::/0'], { '': false, 'not-an-address': false, '10.0.0.1': true });
    assert.equal(allowList(['0.0.0.0/0'])(undefined), false);
  });

  it('an entry that is not an address or CIDR, or whose prefix is too long, is refused when the server is built', () => {
    const bad: Array<[string, RegExp]> = [
      ['10.0.0.0/33', /bad prefix length in "10\.0\.0\.0\/33"/],
      ['::/129', /bad prefix length in "::\/129"/],
      ['10.0.0.0/-1', /bad prefix length/],
      ['10.0.0.0/', /bad prefix length/],
      ['10.0.0.0/8.5', /bad prefix length/],
      ['10.0.0.0/x', /bad prefix length/],
      ['10.0.0.256', /not an IP address or CIDR range: "10\.0\.0\.256"/],
      ['localhost', /not an IP address or CIDR range/],
    ];
    for (const [entry, message] of bad) {
      assert.throws(() => new FastAgiServer({ port: 0, logger: quiet, allow: ['127.0.0.1', entry] }), (error: unknown) => {
        assert.ok(error instanceof TypeError, `${entry}: ${String(error)}`);
        assert.match(error.message, message);
        return true;
      });
    }
  });

  // Node's BlockList matches IPv4-mapped IPv6 addresses against IPv4 rules; allowList relies on it
  // (it had its own dotted-quad branch, which missed nothing BlockList did not already catch).
  it('an IPv4 client seen through a dual-stack socket (::ffff:a.b.c.d) is matched against the IPv4 entries', () => {
    assertAdmits(['10.0.0.0/8', '192.0.2.7'], {
      '::ffff:10.1.2.3': true,
      '::FFFF:10.1.2.3': true,
      '::ffff:a01:203': true,
      '0:0:0:0:0:ffff:10.0.0.1': true,
      '::ffff:192.0.2.7': true,
      '::ffff:11.1.2.3': false,
      '::ffff:192.0.2.8': false,
      // IPv4-compatible (not mapped) addresses are IPv6 addresses of their own.
      '::10.1.2.3': false,
    });
    assertAdmits(['::1'], { '::ffff:127.0.0.1': false, '::1': true });
  });

  it('end to end: a server on a dual-stack loopback socket admits 127.0.0.1/32 and refuses others', async () => {
    // Bound to the IPv4-mapped loopback address: clients connecting to 127.0.0.1 are seen as
    // ::ffff:127.0.0.1, as they are on a server listening on `::`.
    for (const [allow, admitted] of [
      ['127.0.0.1/32', true],
      ['127.0.0.2', false],
    ] as const) {
      const server = new FastAgiServer({ port: 0, host: '::ffff:127.0.0.1', logger: quiet, allow: [allow] });
      server.fallback(async () => {});
      const { port } = await server.listen();
      try {
        const outcome = Promise.race([
          nextEvent(server, 'call', `allow ${allow}: the call was neither started nor refused`).then(() => 'admitted'),
          nextEvent<string>(server, 'refused', `allow ${allow}: the call was neither started nor refused`).then((remote) => `refused ${remote}`),
        ]);
        const fake = await FakeCall.connect(port, { host: '127.0.0.1' });
        fake.respond(() => '200 result=1');
        assert.equal(await outcome, admitted ? 'admitted' : 'refused ::ffff:127.0.0.1', `allow ${allow}`);
        await closed(fake);
        assert.equal(fake.commands.length, admitted ? 1 : 0);
      } finally {
        await server.close({ timeoutMs: 100 });
      }
    }
  });
});
