package metrics

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

const (
	// Path is where every child process serves its metrics (workers on their own port, balancers and stores on
	// a loopback port of their own).
	Path = "/~metrics"
	// MaxScrapeBytes bounds one child's exposition read by the master.
	MaxScrapeBytes = 16 << 20
	// childReadHeaderTimeout bounds a request's headers on a child's metrics listener.
	childReadHeaderTimeout = 5 * time.Second
	// maxFamilies bounds the families decoded from one child.
	maxFamilies = 10000
)

// ErrScrape reports a child whose metrics could not be read.
var ErrScrape = errors.New("metrics: scrape failed")

// Protect serves h only to requests carrying "Authorization: Bearer <key>"; others get 401. An empty key refuses
// everything.
func Protect(key string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !Authorized(r, key) {
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

// Authorized reports whether r carries the bearer key (constant time; an empty key authorizes nothing).
func Authorized(r *http.Request, key string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return key != "" && ok && subtle.ConstantTimeCompare([]byte(got), []byte(key)) == 1
}

// ServeLoopback serves g at Path on an ephemeral 127.0.0.1 port, protected by key, until ctx is done. It
// returns the listening address.
func ServeLoopback(ctx context.Context, key string, g prometheus.Gatherer) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, Protect(key, promhttp.HandlerFor(g, promhttp.HandlerOpts{})))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: childReadHeaderTimeout}
	go func() { _ = srv.Serve(l) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return l.Addr().String(), nil
}

// Fetch reads the metric families at url with the bearer key, within ctx. Any failure (connection, status,
// decoding) wraps ErrScrape.
func Fetch(ctx context.Context, c *http.Client, url, key string) ([]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScrape, err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	res, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScrape, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		return nil, fmt.Errorf("%w: %s: HTTP %d", ErrScrape, url, res.StatusCode)
	}
	dec := expfmt.NewDecoder(io.LimitReader(res.Body, MaxScrapeBytes), expfmt.ResponseFormat(res.Header))
	var fams []*dto.MetricFamily
	for len(fams) < maxFamilies {
		f := &dto.MetricFamily{}
		if err := dec.Decode(f); err != nil {
			if errors.Is(err, io.EOF) {
				return fams, nil
			}
			return nil, fmt.Errorf("%w: %s: %w", ErrScrape, url, err)
		}
		fams = append(fams, f)
	}
	return nil, fmt.Errorf("%w: %s: more than %d families", ErrScrape, url, maxFamilies)
}
