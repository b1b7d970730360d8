// Entry of dist/socketcluster.esm.js (bundlers targeting browsers).
import { makeAPI } from './api.js';
import { browserEnv } from './env-browser.js';

const api = makeAPI(browserEnv);
export default api;
export const connect = api.connect;
export const SCSocket = api.SCSocket;
export const Emitter = api.Emitter;
export const version = api.version;
const JSONObject = JSON;
export { JSONObject as JSON };
