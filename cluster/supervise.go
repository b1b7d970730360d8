package cluster

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// controlWriteTimeout bounds one control write to a child that stopped
// reading its stdin.
const controlWriteTimeout = time.Second

// proc is one child process. Fields other than the channels are owned by
// the master's loop goroutine.
type proc struct {
	kind    string
	id      int
	cmd     *exec.Cmd
	ctl     *os.File // the child's stdin
	started time.Time

	addr      string
	handoff   string // the worker's handoff socket, "" for none
	ready     bool
	rebooting bool // stopped by a rolling reboot: respawn at once, no "died"
	stopping  bool // stopped by the master's shutdown
	killTimer *time.Timer
}

func (p *proc) name() string { return p.kind + " " + strconv.Itoa(p.id) }

func (p *proc) pid() int {
	if p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// send writes one control line; errors (a dying child) are returned for
// logging only.
func (p *proc) send(c Control) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_ = p.ctl.SetWriteDeadline(time.Now().Add(controlWriteTimeout))
	_, err = p.ctl.Write(append(b, '\n'))
	return err
}

func (p *proc) signal(sig syscall.Signal) {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// procEvent is what the goroutines around a child tell the master loop.
type procEvent struct {
	p      *proc
	typ    int
	report Report
	err    error // exit status for evExit
	// for evSpawn
	kind string
	id   int
}

const (
	evReport = iota
	evExit
	evSpawn
)

// spawn starts one child with cfg on its stdin. The returned proc reports
// on m.events until its exit event, which comes last.
func (m *Master) spawn(cfg ChildConfig, listener *os.File) (*proc, error) {
	var files []*os.File // every pipe end created here, closed on error
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return
	}
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	inR, inW, err := pipe()
	if err != nil {
		return nil, err
	}
	repR, repW, err := pipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	outR, outW, err := pipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	errR, errW, err := pipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	cmd := exec.Command(m.exe, cfg.Kind)
	cmd.Stdin = inR
	cmd.Stdout = outW
	cmd.Stderr = errW
	cmd.ExtraFiles = []*os.File{repW} // fd 3 = ReportFD
	if listener != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, listener) // fd 4 = ListenerFD
	}
	cmd.Env = append(os.Environ(), ChildEnv+"="+cfg.Kind)
	cmd.SysProcAttr = childSysProcAttr()
	if err := m.start(cmd); err != nil {
		closeAll()
		return nil, fmt.Errorf("start %s %d: %w", cfg.Kind, cfg.ID, err)
	}
	for _, f := range []*os.File{inR, repW, outW, errW} {
		_ = f.Close()
	}
	p := &proc{kind: cfg.Kind, id: cfg.ID, cmd: cmd, ctl: inW, started: time.Now()}
	b, _ := json.Marshal(cfg)
	_ = inW.SetWriteDeadline(time.Now().Add(controlWriteTimeout))
	if _, err := inW.Write(append(b, '\n')); err != nil {
		m.log.Warn("could not send the config", "proc", p.name(), "err", err)
	}
	tag := p.name()
	var readers sync.WaitGroup
	readers.Add(3)
	go func() {
		defer readers.Done()
		m.forward(outR, tag, "OUT")
	}()
	go func() {
		defer readers.Done()
		m.forward(errR, tag, "ERR")
	}()
	go func() {
		defer readers.Done()
		defer repR.Close()
		sc := bufio.NewScanner(repR)
		sc.Buffer(make([]byte, 4096), maxControlLine)
		for sc.Scan() {
			var r Report
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				m.post(procEvent{p: p, typ: evReport, report: r})
			}
		}
	}()
	m.procs.Add(1)
	go func() {
		defer m.procs.Done()
		err := cmd.Wait()
		readers.Wait()
		_ = inW.Close()
		m.post(procEvent{p: p, typ: evExit, err: err})
	}()
	return p, nil
}

// startSpawner starts the goroutine that forks every child. It is locked to
// its OS thread for its whole life because Linux sends a child's
// parent-death signal when the forking thread ends, not the process; the
// goroutine (and so the thread) ends only after every child is gone.
func (m *Master) startSpawner() (stop func()) {
	type request struct {
		cmd *exec.Cmd
		res chan error
	}
	reqs := make(chan request)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread exits with us
		for r := range reqs {
			r.res <- r.cmd.Start()
		}
	}()
	m.start = func(cmd *exec.Cmd) error {
		res := make(chan error, 1)
		reqs <- request{cmd, res}
		return <-res
	}
	return func() {
		close(reqs)
		<-done
	}
}

// post hands an event to the loop; it gives up once the loop is gone.
func (m *Master) post(e procEvent) {
	select {
	case m.events <- e:
	case <-m.loopDone:
	}
}

// forward copies a child's output to the master's stream line by line,
// tagging lines that do not carry the child's tag yet.
func (m *Master) forward(r *os.File, tag, kind string) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	mark := []byte("[" + tag + "]")
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			line = bytes.TrimRight(line, "\r\n")
			var b []byte
			if kind == "ERR" && bytes.Contains(line, mark) {
				b = append(append(b, line...), '\n')
			} else {
				b = fmt.Appendf(b, "%s %s %s %s\n", time.Now().Format(time.TimeOnly), kind, mark, line)
			}
			m.outMu.Lock()
			_, _ = m.out.Write(b)
			m.outMu.Unlock()
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				m.log.Debug("output of child", "proc", tag, "err", err)
			}
			return
		}
	}
}

// exitText describes how a child ended, in the seed's words.
func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "Exit code: null, signal: " + signalName(ws.Signal())
		}
		return "Exit code: " + strconv.Itoa(ee.ExitCode())
	}
	if err != nil {
		return err.Error()
	}
	return "Exit code: 0"
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	}
	return s.String()
}
