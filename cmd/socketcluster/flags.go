package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/socketcluster-go/socketcluster/cluster"
	jsrt "github.com/socketcluster-go/socketcluster/runtime"
)

// masterFlags are the SocketCluster master options under their SC names.
// Durations are in seconds, as in SocketCluster.
func masterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "workerController", Usage: "path to the worker module exporting run(worker) (required)"},
		&cli.IntFlag{Name: "port", Value: cluster.DefaultPort, Usage: "public port"},
		&cli.StringFlag{Name: "appName", Usage: "unique application name used in cookie names (default: the worker's directory name)"},
		&cli.StringFlag{Name: "host", Value: "", Usage: "host label at the start of socket ids"},
		&cli.StringFlag{Name: "listen", Value: "", Usage: "address to listen on (default: all interfaces)"},
		&cli.StringFlag{Name: "path", Value: cluster.DefaultPath, Usage: "path of the SocketCluster endpoint"},
		&cli.Float64Flag{Name: "heartbeatInterval", Value: cluster.DefaultHeartbeatInterval.Seconds(), Usage: "engine.io pingInterval, seconds"},
		&cli.Float64Flag{Name: "heartbeatTimeout", Value: cluster.DefaultHeartbeatTimeout.Seconds(), Usage: "engine.io pingTimeout, seconds"},
		&cli.Float64Flag{Name: "connectTimeout", Value: cluster.DefaultConnectTimeout.Seconds(), Usage: "upgrade timeout and status timeout, seconds"},
		&cli.Float64Flag{Name: "ackTimeout", Value: cluster.DefaultAckTimeout.Seconds(), Usage: "timeout of server emits with a callback, seconds"},
		&cli.Float64Flag{Name: "sessionTimeout", Value: cluster.DefaultSessionTimeout.Seconds(), Usage: "session data lifetime after its last socket left, seconds"},
		&cli.StringFlag{Name: "origins", Value: cluster.DefaultOrigins, Usage: "allowed origins, e.g. '*:*' or 'example.com:* *:8000'"},
		&cli.StringFlag{Name: "transports", Value: "polling,websocket", Usage: "engine.io transports (polling is always on)"},
		&cli.IntFlag{Name: "logLevel", Value: cluster.DefaultLogLevel, Usage: "0 errors, 1 +banner and warnings, 2 +notices, 3 debug"},
		&cli.Int64Flag{Name: "maxHttpBufferSize", Value: cluster.DefaultMaxHTTPBufferSize, Usage: "max message and polling body size, bytes"},
		&cli.IntFlag{Name: "socketEventLimit", Value: cluster.DefaultSocketEventLimit, Usage: "max channels one socket may subscribe to"},
		&cli.BoolFlag{Name: "allowClientPublish", Value: true, Usage: "let clients publish to channels"},
		&cli.BoolFlag{Name: "addSessionToHTTPRequest", Usage: "page requests get req.session, req.global and the ssid cookie (off: it would shadow express-session's req.session)"},
		&cli.IntFlag{Name: "handshakeRateLimit", Value: cluster.DefaultHandshakeRateLimit, Usage: "max new connections per second per client address, burst 2 s worth (0 = unlimited)"},
		&cli.IntFlag{Name: "addressSocketLimit", Value: cluster.DefaultAddressSocketLimit, Usage: "max sockets per client IP (0 = unlimited)"},
		&cli.Float64Flag{Name: "workerStatusInterval", Value: cluster.DefaultWorkerStatusInterval.Seconds(), Usage: "period of worker status figures, seconds"},
		&cli.Float64Flag{Name: "headerTimeout", Value: cluster.DefaultReadHeaderTimeout.Seconds(), Usage: "max time a client may take to send its request headers (slowloris guard), seconds"},
		&cli.Float64Flag{Name: "handlerBudget", Value: cluster.DefaultHandlerBudget.Seconds(), Usage: "max run time of one JavaScript handler before it is interrupted, seconds"},
		&cli.StringFlag{Name: "moduleCache", EnvVars: []string{jsrt.ModuleCacheEnv}, Usage: "directory where workers keep, per app, the list of modules their start-up loads, so the next workers compile them in parallel ahead of need; \"off\" disables it (default: <user cache dir>/socketcluster/modules)"},
		&cli.StringFlag{Name: "protocol", Value: "http", Usage: "http or https (TLS terminates at the balancers)"},
		&cli.StringFlag{Name: "workers", Usage: "number of worker processes, or a comma list of their loopback ports (default: one per CPU)"},
		&cli.StringFlag{Name: "balancers", Usage: "number of balancer processes sharing the public port (default 1)"},
		&cli.IntFlag{Name: "balancerCount", Usage: "the seed's name for --balancers"},
		&cli.StringFlag{Name: "stores", Usage: "number of store processes (sessions, global data, channels; default 1), or a comma list of ports"},
		&cli.StringFlag{Name: "store", Usage: "redis://HOST:PORT/DB: keep sessions, global data and channels in Redis instead of store processes (clusters sharing it share them)"},
		&cli.BoolFlag{Name: "rebootWorkerOnCrash", Value: true, Usage: "respawn a worker that died"},
		&cli.BoolFlag{Name: "rebootWorkerOnError", Value: true, Usage: "the seed's name for --rebootWorkerOnCrash"},
		&cli.BoolFlag{Name: "rebootOnSignal", Value: true, Usage: "SIGUSR2 reboots the workers one at a time"},
		&cli.StringFlag{Name: "balancerController", Usage: "module exporting run(loadBalancer), run in every balancer"},
		&cli.StringFlag{Name: "protocolKey", Usage: "https: PEM private key file (protocolOptions.key)"},
		&cli.StringFlag{Name: "protocolCert", Usage: "https: PEM certificate chain file (protocolOptions.cert)"},
		&cli.StringFlag{Name: "protocolPassphrase", Usage: "https: passphrase of an encrypted key (protocolOptions.passphrase)"},
		&cli.StringFlag{Name: "metricsListen", Usage: "serve every process' Prometheus metrics at /metrics here: PORT (127.0.0.1), HOST:PORT or :PORT (all interfaces); off when empty"},
		&cli.Float64Flag{Name: "shutdownGrace", Value: cluster.DefaultShutdownGrace.Seconds(), Usage: "how long children may drain on stop or reboot, seconds"},
	}
}

// maxProcCount bounds a process count given as one number; a single port
// is written with a trailing comma ("9100,").
const maxProcCount = 1024

// parseProcs reads a process count or a comma list of ports: "3" is three
// processes on ephemeral ports, "9100,9101" two on those ports.
func parseProcs(name, v string) ([]int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	if !strings.Contains(v, ",") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxProcCount {
			return nil, fmt.Errorf("--%s: %q is neither a count (0-%d) nor a comma list of ports (a single port: %q)", name, v, maxProcCount, v+",")
		}
		return make([]int, n), nil
	}
	var ports []int
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := strconv.Atoi(f)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("--%s: %q is not a port", name, f)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// handshakeRate maps the flag (0 = unlimited) onto Options (0 = default,
// negative = unlimited).
func handshakeRate(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

var appNameClean = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// optionsFromFlags maps the command line onto cluster.Options.
func optionsFromFlags(c *cli.Context) (cluster.Options, error) {
	wc := c.String("workerController")
	if wc == "" {
		if c.NArg() > 0 && strings.HasSuffix(c.Args().First(), ".js") {
			wc = c.Args().First()
		} else {
			return cluster.Options{}, fmt.Errorf("--workerController is required (the worker.js exporting run(worker))")
		}
	}
	app := c.String("appName")
	if app == "" {
		abs, _ := filepath.Abs(wc)
		app = appNameClean.ReplaceAllString(filepath.Base(filepath.Dir(abs)), "")
		if app == "" {
			app = "app"
		}
	}
	var transports []string
	for _, t := range strings.Split(c.String("transports"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			transports = append(transports, t)
		}
	}
	if p := c.String("protocol"); p != "http" && p != "https" {
		return cluster.Options{}, fmt.Errorf("--protocol must be http or https, not %q", p)
	}
	return cluster.Options{
		Port:                    c.Int("port"),
		Host:                    c.String("host"),
		AppName:                 app,
		WorkerController:        wc,
		Protocol:                c.String("protocol"),
		HeartbeatInterval:       seconds(c.Float64("heartbeatInterval")),
		HeartbeatTimeout:        seconds(c.Float64("heartbeatTimeout")),
		ConnectTimeout:          seconds(c.Float64("connectTimeout")),
		AckTimeout:              seconds(c.Float64("ackTimeout")),
		SessionTimeout:          seconds(c.Float64("sessionTimeout")),
		Origins:                 c.String("origins"),
		Transports:              transports,
		LogLevel:                c.Int("logLevel"),
		Path:                    c.String("path"),
		MaxHTTPBufferSize:       c.Int64("maxHttpBufferSize"),
		SocketEventLimit:        c.Int("socketEventLimit"),
		AllowClientPublish:      c.Bool("allowClientPublish"),
		AddressSocketLimit:      c.Int("addressSocketLimit"),
		HandshakeRateLimit:      handshakeRate(c.Int("handshakeRateLimit")),
		AddSessionToHTTPRequest: c.Bool("addSessionToHTTPRequest"),
		WorkerStatusInterval:    seconds(c.Float64("workerStatusInterval")),
		HandlerBudget:           seconds(c.Float64("handlerBudget")),
		HeaderTimeout:           seconds(c.Float64("headerTimeout")),
	}, nil
}
