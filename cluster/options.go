package cluster

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of the SocketCluster master options (spec 1.1/1.2). Where this
// port differs on purpose the comment says why.
const (
	DefaultPort              = 8000
	DefaultHeartbeatInterval = 25 * time.Second
	DefaultHeartbeatTimeout  = 60 * time.Second
	DefaultConnectTimeout    = 10 * time.Second
	DefaultAckTimeout        = 10 * time.Second
	DefaultSessionTimeout    = 1200 * time.Second
	DefaultOrigins           = "*:*"
	DefaultLogLevel          = 2
	DefaultPath              = "/socketcluster/"
	// DefaultMaxHTTPBufferSize is 1 MiB; engine.io 1.3.1 allowed 1e8
	// bytes, which lets one client make the server buffer 100 MB.
	DefaultMaxHTTPBufferSize = 1 << 20
	DefaultSocketEventLimit  = 100
	// DefaultAddressSocketLimit 0 means unlimited (the 0.9.79+ default).
	DefaultAddressSocketLimit   = 0
	DefaultWorkerStatusInterval = 10 * time.Second
	// DefaultHandlerBudget is how long one JavaScript handler may run
	// before the watchdog interrupts it.
	DefaultHandlerBudget = 10 * time.Second
	// DefaultHandshakeRateLimit (ratelimit.go) is the per-address handshake
	// rate; HandshakeRateLimit < 0 disables it.
)

// Options are the SocketCluster options a worker uses, under their SC
// names. The zero value of each field means its default.
type Options struct {
	Port                 int
	Host                 string // host label at the start of socket ids ("" as in 0.9.41+)
	AppName              string
	WorkerController     string
	Protocol             string // "http" (https terminates at the balancer)
	HeartbeatInterval    time.Duration
	HeartbeatTimeout     time.Duration
	ConnectTimeout       time.Duration
	AckTimeout           time.Duration
	SessionTimeout       time.Duration
	Origins              string
	Transports           []string
	LogLevel             int
	Path                 string
	MaxHTTPBufferSize    int64
	SocketEventLimit     int
	AllowClientPublish   bool
	AddressSocketLimit   int
	WorkerStatusInterval time.Duration
	HandlerBudget        time.Duration
	// HandshakeRateLimit is how many handshakes per second one client
	// address may start (burst: two seconds' worth); 0 means
	// DefaultHandshakeRateLimit, negative means unlimited.
	HandshakeRateLimit int
	// AddSessionToHTTPRequest gives page requests req.session/req.global
	// and the ssid cookie (spec 2.1). Off by default here, unlike SC
	// 0.9.91: req.session would shadow express-session's.
	AddSessionToHTTPRequest bool
	// HeaderTimeout bounds how long a client may take to send its request
	// headers (slowloris guard); zero means DefaultReadHeaderTimeout.
	HeaderTimeout time.Duration
	// SourcePort is the public port placed in socket ids (the balancer's);
	// zero means Port.
	SourcePort int
	// WorkerID is this worker's 0-based id.
	WorkerID int
	// DataKey is the cluster secret for /~status; empty disables /~status.
	DataKey string
}

// ErrBadOption reports an invalid option value.
var ErrBadOption = errors.New("invalid option")

// withDefaults fills zero fields and validates.
func (o Options) withDefaults() (Options, error) {
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = DefaultAckTimeout
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = DefaultSessionTimeout
	}
	if o.Origins == "" {
		o.Origins = DefaultOrigins
	}
	if len(o.Transports) == 0 {
		o.Transports = []string{"polling", "websocket"}
	}
	for _, t := range o.Transports {
		if t != "polling" && t != "websocket" {
			return o, fmt.Errorf("%w: transports: unknown transport %q (use polling, websocket)", ErrBadOption, t)
		}
	}
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.Path[0] != '/' {
		o.Path = "/" + o.Path
	}
	if o.Path[len(o.Path)-1] != '/' {
		o.Path += "/"
	}
	if o.MaxHTTPBufferSize <= 0 {
		o.MaxHTTPBufferSize = DefaultMaxHTTPBufferSize
	}
	if o.SocketEventLimit <= 0 {
		o.SocketEventLimit = DefaultSocketEventLimit
	}
	if o.WorkerStatusInterval <= 0 {
		o.WorkerStatusInterval = DefaultWorkerStatusInterval
	}
	if o.HandlerBudget == 0 {
		o.HandlerBudget = DefaultHandlerBudget
	}
	if o.HandshakeRateLimit == 0 {
		o.HandshakeRateLimit = DefaultHandshakeRateLimit
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.SourcePort == 0 {
		o.SourcePort = o.Port
	}
	if o.AppName == "" {
		return o, fmt.Errorf("%w: appName is required", ErrBadOption)
	}
	if o.WorkerController == "" {
		return o, fmt.Errorf("%w: workerController is required", ErrBadOption)
	}
	if _, err := parseOrigins(o.Origins); err != nil {
		return o, err
	}
	return o, nil
}

// jsOptions is what worker.options shows to JavaScript (SC names, seconds
// where SC used seconds).
func (o Options) jsOptions() map[string]any {
	tr := make([]any, len(o.Transports))
	for i, t := range o.Transports {
		tr[i] = t
	}
	return map[string]any{
		"port":                    o.Port,
		"host":                    o.Host,
		"appName":                 o.AppName,
		"workerController":        o.WorkerController,
		"protocol":                o.Protocol,
		"heartbeatInterval":       o.HeartbeatInterval.Seconds(),
		"heartbeatTimeout":        o.HeartbeatTimeout.Seconds(),
		"connectTimeout":          o.ConnectTimeout.Seconds(),
		"ackTimeout":              o.AckTimeout.Seconds(),
		"sessionTimeout":          o.SessionTimeout.Seconds(),
		"origins":                 o.Origins,
		"transports":              tr,
		"logLevel":                o.LogLevel,
		"path":                    o.Path,
		"maxHttpBufferSize":       o.MaxHTTPBufferSize,
		"socketEventLimit":        o.SocketEventLimit,
		"allowClientPublish":      o.AllowClientPublish,
		"addressSocketLimit":      o.AddressSocketLimit,
		"workerStatusInterval":    o.WorkerStatusInterval.Seconds(),
		"handshakeRateLimit":      max(o.HandshakeRateLimit, 0),
		"addSessionToHTTPRequest": o.AddSessionToHTTPRequest,
	}
}
