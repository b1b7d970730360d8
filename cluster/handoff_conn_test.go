package cluster

import (
	"github.com/socketcluster-go/socketcluster/cluster/engineio"
	"github.com/socketcluster-go/socketcluster/cluster/handoff"
)

// A handed-off connection must expose its socket to the engine.io layer, or
// its idle WebSocket keeps a reader goroutine (engineio.BufferedConn).
var _ engineio.BufferedConn = (*handoff.Conn)(nil)
