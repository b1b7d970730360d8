// Entry of dist/index.cjs (require('socketcluster-client') in Node and in the
// worker runtime). http/https are required only when a request is made, so
// hosts without them can still load the file.
import { makeAPI } from './api.js';
import { nodeEnv } from './env-node.js';

let modules = null;
function getModules() {
  if (!modules) modules = { http: require('http'), https: require('https') };
  return modules;
}

const api = makeAPI(() => nodeEnv(getModules));
const JSONObject = JSON;
export const connect = api.connect;
export const SCSocket = api.SCSocket;
export const Emitter = api.Emitter;
export const version = api.version;
export { JSONObject as JSON };
