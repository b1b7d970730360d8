package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/urfave/cli/v2"

	"github.com/socketcluster-go/socketcluster/cluster"
	jsrt "github.com/socketcluster-go/socketcluster/runtime"
)

// scriptConstructWait bounds how long a master script may take to call
// new SocketCluster(...) after it was loaded (e.g. from a timer).
const scriptConstructWait = 10 * time.Second

// masterScriptRe recognises a seed-style master script (server.js) as
// opposed to a worker controller given as the first argument.
var masterScriptRe = regexp.MustCompile(`require\(\s*['"]socketcluster['"]\s*\)|new\s+SocketCluster\s*\(`)

// isMasterScript reports whether path is a master script.
func isMasterScript(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && masterScriptRe.Match(b)
}

// socketClusterJS is the master object of the seed: an EventEmitter whose
// constructor hands the options to the Go master (native.start).
const socketClusterJS = `(function (native, events, util) {
  var EventEmitter = events.EventEmitter;
  function SocketCluster(options) {
    if (!(this instanceof SocketCluster)) return new SocketCluster(options);
    EventEmitter.call(this);
    this.EVENT_FAIL = 'fail';
    this.EVENT_NOTICE = 'notice';
    this.EVENT_INFO = 'info';
    this.EVENT_READY = 'ready';
    this.EVENT_WORKER = 'worker';
    this.EVENT_LEADER_START = 'leaderstart';
    options = options || {};
    if (!options.appName) throw new Error("Compulsory option 'appName' was not specified - It needs to be a string which uniquely identifies this application");
    if (!options.workerController) throw new Error("Compulsory option 'workerController' was not specified - It needs to be a path to a JavaScript file which will act as the boot controller for each worker in the cluster");
    var plain = {};
    Object.keys(options).forEach(function (k) {
      var v = options[k];
      if (k === 'protocolOptions' && v) {
        var po = {};
        Object.keys(v).forEach(function (pk) { po[pk] = v[pk] == null ? v[pk] : String(v[pk]); });
        v = po;
      }
      plain[k] = v;
    });
    this.options = JSON.parse(native.start(JSON.stringify(plain), this));
  }
  util.inherits(SocketCluster, EventEmitter);
  SocketCluster.prototype.killWorkers = function () { native.killWorkers(); };
  SocketCluster.prototype.log = function (message, time) {
    console.log((time || Date.now()) + ' - ' + message);
  };
  SocketCluster.prototype.colorText = function (message) { return message; };
  SocketCluster.prototype.triggerInfo = function (info) { this.emit('info', info); };
  SocketCluster.prototype.errorHandler = function (err, origin) {
    if (!(err instanceof Error)) err = new Error(String(err));
    err.origin = origin; err.time = Date.now();
    this.emit('fail', err);
  };
  SocketCluster.prototype.noticeHandler = function (notice, origin) {
    if (!(notice instanceof Error)) notice = new Error(String(notice));
    notice.origin = origin; notice.time = Date.now();
    this.emit('notice', notice);
  };
  return { SocketCluster: SocketCluster };
})`

// scriptOptionFlags maps master-script option names to the CLI's flags.
// Options not listed are ignored (dataKey, as in the seed, and the options
// that were unused by the 0.9 server).
var scriptOptionFlags = map[string]string{
	"port": "port", "appName": "appName", "host": "host", "path": "path", "protocol": "protocol",
	"heartbeatInterval": "heartbeatInterval", "heartbeatTimeout": "heartbeatTimeout", "connectTimeout": "connectTimeout",
	"ackTimeout": "ackTimeout", "sessionTimeout": "sessionTimeout", "origins": "origins", "transports": "transports",
	"logLevel": "logLevel", "maxHttpBufferSize": "maxHttpBufferSize", "socketEventLimit": "socketEventLimit",
	"allowClientPublish": "allowClientPublish", "addressSocketLimit": "addressSocketLimit",
	"workerStatusInterval": "workerStatusInterval", "workers": "workers", "stores": "stores", "balancers": "balancers",
	"balancerCount": "balancerCount", "rebootWorkerOnCrash": "rebootWorkerOnCrash", "rebootWorkerOnError": "rebootWorkerOnError",
	"rebootOnSignal": "rebootOnSignal", "workerController": "workerController", "balancerController": "balancerController",
	"addSessionToHTTPRequest": "addSessionToHTTPRequest", "store": "store",
	// Options of this server that 0.9 did not have; a master script can set them too.
	"listen": "listen", "handshakeRateLimit": "handshakeRateLimit", "headerTimeout": "headerTimeout",
	"handlerBudget": "handlerBudget", "moduleCache": "moduleCache", "metricsListen": "metricsListen",
	"shutdownGrace": "shutdownGrace",
}

// scriptArgs turns the options object of new SocketCluster(options) into
// command-line arguments so the flags' parsing and validation apply.
// Paths are resolved against the current directory, as path.resolve did.
func scriptArgs(raw map[string]any) ([]string, error) {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := []string{"socketcluster"}
	for _, k := range keys {
		flag, ok := scriptOptionFlags[k]
		v := raw[k]
		if !ok || v == nil {
			continue
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
			if k == "workerController" || k == "balancerController" || k == "moduleCache" {
				abs, err := filepath.Abs(x)
				if err != nil {
					return nil, err
				}
				s = abs
			}
		case bool:
			s = strconv.FormatBool(x)
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		case []any:
			parts := make([]string, 0, len(x))
			for _, e := range x {
				switch y := e.(type) {
				case map[string]any: // {port: 9100}
					p, ok := y["port"].(float64)
					if !ok {
						return nil, fmt.Errorf("option %s: entry without a port: %v", k, y)
					}
					parts = append(parts, strconv.FormatFloat(p, 'f', -1, 64))
				default:
					parts = append(parts, fmt.Sprint(y))
				}
			}
			s = strings.Join(parts, ",")
			if k != "transports" && len(parts) == 1 {
				s += "," // one port, not a count
			}
		default:
			return nil, fmt.Errorf("option %s: unsupported value %v", k, v)
		}
		args = append(args, "--"+flag+"="+s)
	}
	return args, nil
}

// scriptMaster is the Go side of the master object of one script.
type scriptMaster struct {
	loop *jsrt.Loop
	log  *slog.Logger
	obj  *goja.Object // the SocketCluster instance (loop-owned)

	mu      sync.Mutex
	cfg     *cluster.MasterConfig
	cfgErr  error
	master  *cluster.Master
	kill    bool // killWorkers() before the master existed
	created chan struct{}
}

// runScript runs a seed-style master script: its new SocketCluster(...)
// starts the same process cluster the flags start.
func runScript(c *cli.Context, script string, stdout, stderr io.Writer) error {
	abs, err := filepath.Abs(script)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	out := &lockedWriter{w: stderr}
	log := slog.New(newLineHandler(out, logLevel(cluster.DefaultLogLevel))).With("proc", "master")
	loop, err := jsrt.New(jsrt.Options{AppDir: filepath.Dir(abs), Logger: log, Stdout: stdout, Stderr: out, HandlerBudget: -1})
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	sm := &scriptMaster{loop: loop, log: log, created: make(chan struct{})}
	loop.RegisterModule("socketcluster", sm.module)
	loop.Start()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = loop.Stop(ctx)
	}()
	var loadErr error
	if err := loop.Submit(func(vm *goja.Runtime) {
		_ = vm.Set("SocketCluster", sm.constructor(vm))
		_, loadErr = loop.RequireFile(abs)
	}); err != nil {
		return &exitError{code: 1, err: err}
	}
	// the inbox is FIFO: this task runs after the script was loaded
	waitLoad := make(chan struct{})
	_ = loop.Submit(func(*goja.Runtime) { close(waitLoad) })
	<-waitLoad
	if loadErr != nil {
		return &exitError{code: 1, err: fmt.Errorf("%s: %w", script, loadErr)}
	}
	select {
	case <-sm.created:
	case <-time.After(scriptConstructWait):
		return &exitError{code: 1, err: fmt.Errorf("%s did not construct a SocketCluster within %v", script, scriptConstructWait)}
	case <-c.Context.Done():
		return nil
	}
	sm.mu.Lock()
	cfg, cfgErr := sm.cfg, sm.cfgErr
	sm.mu.Unlock()
	if cfgErr != nil {
		return &exitError{code: 2, err: cfgErr}
	}
	cfg.OnEvent = sm.onEvent
	return startMaster(c, *cfg, stdout, stderr, func(m *cluster.Master) {
		sm.mu.Lock()
		sm.master = m
		kill := sm.kill
		sm.mu.Unlock()
		if kill {
			m.KillWorkers()
		}
	})
}

var errSecondSocketCluster = errors.New("only one SocketCluster can be constructed per process")

// module is require('socketcluster').
func (sm *scriptMaster) module(vm *goja.Runtime, module *goja.Object) {
	exports := vm.NewObject()
	_ = exports.Set("SocketCluster", sm.constructor(vm))
	_ = module.Set("exports", exports)
}

// constructor builds (once per VM) the SocketCluster function.
func (sm *scriptMaster) constructor(vm *goja.Runtime) goja.Value {
	if v := vm.Get("__scSocketCluster"); v != nil && !goja.IsUndefined(v) {
		return v
	}
	fn, err := vm.RunString(socketClusterJS)
	if err != nil {
		panic(vm.NewGoError(err))
	}
	factory, _ := goja.AssertFunction(fn)
	native := vm.NewObject()
	_ = native.Set("start", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(sm.start(vm, call.Argument(0).String(), call.Argument(1).ToObject(vm)))
	})
	_ = native.Set("killWorkers", func(goja.FunctionCall) goja.Value {
		sm.mu.Lock()
		m := sm.master
		if m == nil {
			sm.kill = true
		}
		sm.mu.Unlock()
		if m != nil {
			m.KillWorkers()
		}
		return goja.Undefined()
	})
	events, err := sm.loop.Require("events")
	if err != nil {
		panic(vm.NewGoError(err))
	}
	util, err := sm.loop.Require("util")
	if err != nil {
		panic(vm.NewGoError(err))
	}
	res, err := factory(goja.Undefined(), native, events, util)
	if err != nil {
		panic(vm.NewGoError(err))
	}
	ctor := res.ToObject(vm).Get("SocketCluster")
	_ = vm.Set("__scSocketCluster", ctor)
	return ctor
}

// start receives the options (JSON) on the loop, turns them into the
// master's configuration and returns the merged options (JSON).
func (sm *scriptMaster) start(vm *goja.Runtime, optsJSON string, obj *goja.Object) string {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if sm.cfg != nil || sm.cfgErr != nil {
		panic(vm.NewGoError(errSecondSocketCluster))
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(optsJSON), &raw); err != nil {
		panic(vm.NewGoError(err))
	}
	cfg, err := scriptConfig(raw)
	if err != nil {
		panic(vm.NewGoError(err))
	}
	sm.obj = obj
	sm.cfg = &cfg
	close(sm.created)
	merged := map[string]any{}
	for k, v := range raw {
		merged[k] = v
	}
	merged["port"] = cfg.Options.Port
	merged["appName"] = cfg.Options.AppName
	merged["workerController"] = cfg.Options.WorkerController
	merged["logLevel"] = cfg.Options.LogLevel
	merged["host"] = cfg.Options.Host
	merged["balancerCount"] = cfg.Balancers
	b, _ := json.Marshal(merged)
	return string(b)
}

// scriptConfig parses the script's options through the CLI's flags.
func scriptConfig(raw map[string]any) (cluster.MasterConfig, error) {
	args, err := scriptArgs(raw)
	if err != nil {
		return cluster.MasterConfig{}, err
	}
	var cfg cluster.MasterConfig
	app := &cli.App{
		Name:   "socketcluster",
		Flags:  masterFlags(),
		Writer: io.Discard, ErrWriter: io.Discard,
		Action: func(c *cli.Context) error {
			var err error
			cfg, err = masterConfig(c)
			return err
		},
		HideHelp: true,
	}
	if err := app.Run(args); err != nil {
		return cfg, err
	}
	if po, ok := raw["protocolOptions"].(map[string]any); ok {
		cfg.Balancer.Key, _ = po["key"].(string)
		cfg.Balancer.Cert, _ = po["cert"].(string)
		cfg.Balancer.Passphrase, _ = po["passphrase"].(string)
	}
	return cfg, checkTLS(cfg.Balancer)
}

// onEvent re-emits master events on the script's SocketCluster object.
// Called from the master's loop goroutine: it only queues work.
func (sm *scriptMaster) onEvent(e cluster.MasterEvent) {
	sm.loop.TrySubmit(func(vm *goja.Runtime) {
		var args []goja.Value
		switch e.Type {
		case cluster.EventFail, cluster.EventNotice:
			errObj, _ := vm.New(vm.Get("Error"), vm.ToValue(e.Message))
			origin := vm.NewObject()
			typ := e.Kind
			if typ == "" {
				typ = "master"
			}
			_ = origin.Set("type", typ)
			if e.PID != 0 {
				_ = origin.Set("pid", e.PID)
			}
			if e.Kind != "" {
				_ = origin.Set("id", e.ID)
			}
			_ = errObj.Set("origin", origin)
			_ = errObj.Set("time", time.Now().UnixMilli())
			args = []goja.Value{errObj}
		case cluster.EventWorker:
			w := vm.NewObject()
			_ = w.Set("id", e.ID)
			_ = w.Set("pid", e.PID)
			args = []goja.Value{w}
		}
		if _, err := sm.loop.Call(sm.obj.Get("emit"), sm.obj, append([]goja.Value{vm.ToValue(e.Type)}, args...)...); err != nil {
			sm.log.Error("master script listener threw", "event", e.Type, "err", err)
		}
	})
}
