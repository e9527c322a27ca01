package metrics

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/node/server"
)

// Path is where the metrics are served ("/" answers too).
const Path = "/metrics"

// readTimeout bounds how long a scraper may take to send its request.
const readTimeout = 10 * time.Second

// endpoint is the node's metrics HTTP server.
type endpoint struct {
	s         *server.Server
	port      int
	databases int
	listeners []net.Listener
	http      *http.Server
	// mu makes scrapes take turns: the reader's internal client is one.
	mu     sync.Mutex
	reader *server.ScrapeReader
}

// Plugin plugs the metrics endpoint into a server (plug.go): with
// metrics-port set, Listen opens it on the client port's bind addresses
// and serves it at once (a loading node is scraped too: loading_dump_file
// says so), Close stops it. Without, it plugs nothing.
func Plugin(s *server.Server) (server.Hooks, error) {
	cfg := s.Config()
	if cfg.MetricsPort == 0 {
		return server.Hooks{Name: "metrics"}, nil
	}
	ep := &endpoint{s: s, port: cfg.MetricsPort, databases: cfg.Databases}
	return server.Hooks{Name: "metrics", Listen: ep.listen, Close: ep.close}, nil
}

// listen opens the port on every bind address and serves it.
func (ep *endpoint) listen() error {
	lns, err := ep.s.ListenOnBind(ep.port)
	if err != nil {
		return errors.New("metrics-port: " + err.Error())
	}
	ep.listeners = lns
	ep.reader = ep.s.NewScrapeReader(LatencyBoundsNs())
	ep.http = serve(ep.listeners, ep.expose)
	return nil
}

// expose is one scrape's exposition.
func (ep *endpoint) expose() []byte {
	ep.mu.Lock()
	sc := ep.reader.Read()
	ep.mu.Unlock()
	return Expose(sc, ep.databases, time.Now())
}

// serve serves GET /metrics (and /) on lns, each answered with expose().
func serve(lns []net.Listener, expose func() []byte) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveMetrics(w, r, expose) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: readTimeout, ReadTimeout: readTimeout}
	for _, ln := range lns {
		go func() { _ = srv.Serve(ln) }()
	}
	return srv
}

func (ep *endpoint) closeListeners() {
	for _, ln := range ep.listeners {
		ln.Close()
	}
	ep.listeners = nil
}

// close stops the endpoint (lock held: it waits for no scrape).
func (ep *endpoint) close() {
	if ep.http != nil {
		_ = ep.http.Close()
	} else {
		ep.closeListeners()
	}
}

// serveMetrics answers GET /metrics (and /).
func serveMetrics(w http.ResponseWriter, r *http.Request, expose func() []byte) {
	if r.URL.Path != Path && r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body := expose()
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}
