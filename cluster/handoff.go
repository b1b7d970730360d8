package cluster

import (
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/socketcluster-go/socketcluster/cluster/handoff"
)

// newHandoffDir makes the directory of the workers' handoff sockets,
// readable by this user only (0700): the sockets inside take client
// connections from anyone who can connect. "" where handoff is unsupported
// or the directory cannot be made (balancers then tunnel).
func newHandoffDir(log *slog.Logger) string {
	if !handoff.Supported {
		return ""
	}
	dir, err := os.MkdirTemp("", "sc-handoff-")
	if err == nil {
		err = os.Chmod(dir, 0o700)
	}
	if err != nil {
		log.Warn("no handoff directory: WebSockets are tunnelled through the balancer", "err", err)
		return ""
	}
	return dir
}

func removeHandoffDir(dir string) {
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
}

// handoffPath is the handoff socket of worker id ("" for none); a respawned
// worker reuses it.
func (m *Master) handoffPath(id int) string {
	if m.handoffDir == "" {
		return ""
	}
	return filepath.Join(m.handoffDir, "worker-"+strconv.Itoa(id)+".sock")
}

// entry is p's worker table entry: its address and handoff socket.
func (p *proc) entry() string { return handoff.JoinEntry(p.addr, p.handoff) }
