// Type declarations of socketcluster-client (the Go SocketCluster project's
// client, 0.9.37 API). Also describes the browser global `socketCluster`.

export type Callback<T = any> = (err?: any, data?: T) => void;

export interface AutoReconnectOptions {
  /** Ceiling of the first jittered delay, ms. Default 500. */
  initialDelay?: number;
  /** Growth of the ceiling per failed attempt. Default 2. */
  multiplier?: number;
  /** Largest ceiling, ms. Default 10000. */
  maxDelay?: number;
  /** 0.9.x legacy: base delay, ms (selects the old formula when no new key is given). */
  delay?: number;
  /** 0.9.x legacy: random extra delay, ms. */
  randomness?: number;
}

/** Minimal shape of a WebSocket constructor (browser, Node 22+ global, or the `ws` package). */
export interface WebSocketConstructor {
  new (url: string): any;
}

export interface ClientOptions {
  /** Server host name. Default: the page's, or 'localhost'. */
  hostname?: string;
  /** 'host:port' shorthand. */
  host?: string;
  /** Server port. Default: the page's, or 80/443. */
  port?: number | string;
  /** Use https/wss. Default: the page's protocol. */
  secure?: boolean;
  /** Endpoint path. Default '/socketcluster/'. */
  path?: string;
  /** Full server URL instead of hostname/port/secure. */
  url?: string;
  /** Transports in order of preference. Default ['polling', 'websocket']. */
  transports?: Array<'polling' | 'websocket'>;
  /** Upgrade from polling to WebSocket when offered. Default true. */
  upgrade?: boolean;
  /** Use JSONP long-polling (browser only). Default false. */
  forceJSONP?: boolean;
  /** Use text (b64) framing instead of binary payloads. Default false. */
  forceBase64?: boolean;
  /** Add the cache-busting timestamp to polling requests. Default true. */
  timestampRequests?: boolean;
  /** Name of the timestamp parameter. Default 't'. */
  timestampParam?: string;
  /** Extra query parameters. */
  query?: Record<string, string | number | boolean> | string;
  /** Reconnect after a drop. Default true. */
  autoReconnect?: boolean;
  autoReconnectOptions?: AutoReconnectOptions;
  /** Time to wait for an event's response, ms. Default 10000. */
  ackTimeout?: number;
  /** WebSocket constructor to use (Node 20: require('ws')). */
  WebSocket?: WebSocketConstructor;
  /** Node only: http.Agent for polling requests. */
  agent?: any;
}

/** Answers a server event: `res.end(data)` or `res.error(err, data)`. */
export interface Response {
  readonly id: number | undefined;
  end(data?: any): void;
  error(error: any, data?: any): void;
}

export type Handler<T = any> = (data: T, res: Response) => void;

export declare class Emitter {
  on(event: string, fn: (...args: any[]) => void): this;
  addEventListener(event: string, fn: (...args: any[]) => void): this;
  once(event: string, fn: (...args: any[]) => void): this;
  off(event?: string, fn?: (...args: any[]) => void): this;
  removeListener(event?: string, fn?: (...args: any[]) => void): this;
  removeEventListener(event?: string, fn?: (...args: any[]) => void): this;
  removeAllListeners(event?: string): this;
  emit(event: string, ...args: any[]): this;
  listeners(event: string): Array<(...args: any[]) => void>;
  hasListeners(event: string): boolean;
}

export interface Transport {
  readonly name: 'polling' | 'websocket';
}

export declare class SCSocket extends Emitter {
  constructor(options?: ClientOptions);
  /** Normalised options. */
  readonly options: ClientOptions & { path: string; transports: Array<'polling' | 'websocket'>; ackTimeout: number };
  /** The socket id (engine.io sid) while open, else null. */
  readonly id: string | null;
  /** The session id: the ssid cookie value (browser) or the socket id. */
  readonly ssid: string | null;
  readonly connected: boolean;
  readonly connecting: boolean;
  /** The current transport, or null. */
  readonly transport: Transport | null;

  connect(): this;
  open(): this;
  /** Closes and stops reconnecting until connect() is called. */
  disconnect(): this;
  close(): this;

  on(event: 'connect', fn: (socketId: string) => void): this;
  on(event: 'disconnect', fn: (reason?: string) => void): this;
  on(event: 'error', fn: (err: any) => void): this;
  on(event: 'raw', fn: (data: any) => void): this;
  on(event: 'fail', fn: (reason: any) => void): this;
  on(event: 'upgrade', fn: (transport: 'websocket') => void): this;
  on<T = any>(event: string, fn: Handler<T>): this;
  once(event: 'connect', fn: (socketId: string) => void): this;
  once<T = any>(event: string, fn: Handler<T>): this;

  /** Sends an event (buffered while disconnected); the callback gets the response or a timeout error. */
  emit(event: string, data?: any, callback?: Callback): this;
  /** Publishes to a channel (server acks; subscribers receive `event`). */
  publish(channel: string, data?: any, callback?: (err?: any) => void): this;
  /** Subscribes; callback(err) for one channel, callback({channel: err}) for several. */
  subscribe(channels: string | string[], callback?: (err?: any) => void): this;
  unsubscribe(channels: string | string[], callback?: (err?: any) => void): this;
  /** Channels whose subscription the server acknowledged. */
  subscriptions(): string[];
  /** Sends a raw string (the server emits `raw`). */
  send(data: string): this;
}

export declare function connect(options?: ClientOptions): SCSocket;
export declare const version: string;
declare const JSONObject: JSON;
export { JSONObject as JSON };

export interface SocketClusterGlobal {
  connect(options?: ClientOptions): SCSocket;
  SCSocket: typeof SCSocket;
  Emitter: typeof Emitter;
  JSON: JSON;
  version: string;
}

declare const socketCluster: SocketClusterGlobal;
export default socketCluster;

declare global {
  /** Defined by socketcluster.js in browsers. */
  var socketCluster: SocketClusterGlobal;
}
