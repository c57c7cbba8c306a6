// A plain TCP forwarder the test stack puts between the services and RabbitMQ, so a failure
// test can make the broker unreachable (kill this process) without stopping the machine's
// shared RabbitMQ. Usage: node tcp-proxy.mjs <listenPort> <targetPort>
import net from 'node:net';

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
const server = net.createServer((client) => {
  const upstream = net.connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
  // No Nagle on either leg: AMQP frames are small, and delayed coalescing would add
  // milliseconds to every publish confirm the gateway waits for.
  client.setNoDelay(true);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
});
server.listen(listenPort, '127.0.0.1', () => console.log(`forwarding ${listenPort} -> ${targetPort}`));
process.on('SIGTERM', () => process.exit(0));
