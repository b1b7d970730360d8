// A typed example, compiled with `tsc --noEmit` (npm run typecheck) to check
// the declarations in ../index.d.ts.
import socketCluster, { connect, SCSocket, Response, ClientOptions } from '../index';

interface RandomNumber {
  number: number;
}

const options: ClientOptions = {
  hostname: 'localhost',
  port: 8000,
  transports: ['websocket', 'polling'],
  autoReconnectOptions: { initialDelay: 500, multiplier: 2, maxDelay: 10000 },
  ackTimeout: 5000,
  query: { token: 'abc' },
};

const socket: SCSocket = connect(options);

socket.on('connect', (id: string) => {
  console.log('connected as', id, 'session', socket.ssid, 'over', socket.transport?.name);
});
socket.on('disconnect', () => console.log('disconnected'));
socket.on('error', (err: unknown) => console.error(err));
socket.on<RandomNumber>('rand', (data: RandomNumber, res: Response) => {
  console.log('random number', data.number.toFixed(2));
  res.end('thanks');
});

socket.emit('ping', { n: 1 }, (err?: any, data?: { pong: unknown }) => {
  if (err) return console.error(err);
  console.log(data?.pong);
});

socket.subscribe(['news', 'sport'], (err) => {
  if (err) console.error('subscribe failed', err);
  const channels: string[] = socket.subscriptions();
  socket.publish('news', { title: 'hello' }, (e) => e && console.error(e));
  console.log(channels);
});

socket.send('raw text');
socket.unsubscribe('sport');

const other = socketCluster.connect({ path: '/socketcluster/', forceBase64: true });
other.disconnect();

// The browser global.
const viaGlobal: SCSocket = globalThis.socketCluster.connect();
viaGlobal.once('connect', () => viaGlobal.disconnect());
