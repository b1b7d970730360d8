// The module surface shared by every entry point: socketCluster.connect(),
// SCSocket, Emitter, JSON, plus protocol helpers for tests and tools.

import { SCSocket } from './scsocket.js';
import { Emitter } from './emitter.js';

export const version = '0.9.100';

export function makeAPI(getEnv) {
  class BoundSCSocket extends SCSocket {
    constructor(options) {
      super(options, getEnv());
    }
  }
  return {
    version,
    SCSocket: BoundSCSocket,
    Emitter,
    JSON,
    connect(options) {
      return new BoundSCSocket(options);
    },
  };
}
