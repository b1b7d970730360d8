// Entry of dist/index.mjs (import in Node).
import http from 'node:http';
import https from 'node:https';
import { makeAPI } from './api.js';
import { nodeEnv } from './env-node.js';

const api = makeAPI(() => nodeEnv(() => ({ http, https })));
const JSONObject = JSON;
export default api;
export const connect = api.connect;
export const SCSocket = api.SCSocket;
export const Emitter = api.Emitter;
export const version = api.version;
export { JSONObject as JSON };
