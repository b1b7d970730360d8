// Entry of dist/socketcluster.js: defines the global `socketCluster`.
import { makeAPI } from './api.js';
import { browserEnv } from './env-browser.js';

const api = makeAPI(browserEnv);
const root = typeof globalThis !== 'undefined' ? globalThis : typeof window !== 'undefined' ? window : self;
root.socketCluster = api;
export default api;
