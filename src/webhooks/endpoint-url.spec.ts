import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { refuseAddress, refuseUrl, urlPolicy } from './endpoint-url';
import { postWebhook } from './outbound-delivery';

const production = urlPolicy('production');
const development = urlPolicy('development');

describe('webhook URLs: only public https in production (SSRF)', () => {
  it.each([
    ['http://hooks.example.com/x', 'url must be https'],
    ['https://10.0.0.5/x', 'private'],
    ['https://192.168.1.1/x', 'private'],
    ['https://172.16.0.1/x', 'private'],
    ['https://127.0.0.1/x', 'loopback'],
    ['https://169.254.169.254/latest/meta-data', 'linkLocal'],
    ['https://[::1]/x', 'loopback'],
    ['https://[fd00:ec2::254]/x', 'uniqueLocal'],
    ['https://[::ffff:169.254.169.254]/x', 'linkLocal'],
    ['https://[fe80::1]/x', 'linkLocal'],
    ['https://0.0.0.0/x', 'unspecified'],
    ['https://localhost/x', 'public host'],
    ['https://user:pw@hooks.example.com/x', 'credentials'],
    ['not a url', 'absolute URL'],
  ])('refuses %s', (url, why) => {
    expect(refuseUrl(url, production)).toContain(why);
  });

  it('accepts public https, and loopback http only outside production', () => {
    expect(refuseUrl('https://hooks.example.com/gpumeter', production)).toBeNull();
    expect(refuseUrl('https://93.184.216.34/x', production)).toBeNull();
    expect(refuseUrl('http://127.0.0.1:8080/x', development)).toBeNull();
    expect(refuseUrl('http://10.0.0.5/x', development)).toContain('private');
    expect(refuseAddress('127.0.0.1', development)).toBeNull();
    expect(refuseAddress('169.254.169.254', development)).toContain('linkLocal');
  });

  it('checks the address actually dialled: a name resolving to 127.0.0.1 is refused at connect time', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      // `localhost` passes a name-only check in development; under the production policy the
      // dialled address is refused (http is refused by name too; here the connect check is shown).
      const refused = await postWebhook(`http://localhost:${port}/`, {}, '{}', production);
      expect(refused).toMatchObject({ status: 0, error: expect.stringContaining('loopback') });
      expect(hits).toBe(0);
      const allowed = await postWebhook(`http://localhost:${port}/`, {}, '{}', development);
      expect(allowed.status).toBe(200);
      expect(hits).toBe(1);
    } finally {
      server.close();
    }
  });

  it('follows no redirect, reads at most 64 KiB, times out', async () => {
    let redirectedTo = 0;
    const server = createServer((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/target' });
        res.end();
      } else if (req.url === '/target') {
        redirectedTo++;
        res.end();
      } else if (req.url === '/big') {
        res.writeHead(200);
        res.end(Buffer.alloc(10 * 1024 * 1024));
      } else {
        setTimeout(() => res.end(), 2000);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await postWebhook(`${base}/redirect`, {}, '{}', development)).toMatchObject({
        status: 302,
        error: 'redirect not followed',
      });
      expect(redirectedTo).toBe(0);
      expect((await postWebhook(`${base}/big`, {}, '{}', development)).status).toBe(200);
      expect(await postWebhook(`${base}/slow`, {}, '{}', development, 300)).toMatchObject({
        status: 0,
        error: expect.stringContaining('no answer'),
      });
    } finally {
      server.close();
    }
  });
});
