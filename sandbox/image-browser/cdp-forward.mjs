// Runs in the browser container beside Chromium. Chromium's headless mode binds its DevTools port
// to 127.0.0.1 whatever --remote-debugging-address says, so this forwards 0.0.0.0:<listen> to it
// for the service, and only for the service: connections from any address but ALLOW_FROM (the
// check network's gateway, i.e. the host) are closed, so the app under check cannot drive the browser.
import net from 'node:net';

const [listen, target] = process.argv.slice(2).map(Number);
const allowFrom = process.env.ALLOW_FROM;
if (!listen || !target || !allowFrom) {
  process.stderr.write('usage: ALLOW_FROM=<ip> node cdp-forward.mjs <listen-port> <chromium-port>\n');
  process.exit(2);
}

net
  .createServer((client) => {
    if (client.remoteAddress?.replace(/^::ffff:/, '') !== allowFrom) return client.destroy();
    const upstream = net.connect(target, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  })
  .listen(listen, '0.0.0.0');
