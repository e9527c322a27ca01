package backup

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The HTTP protocol of a store served over the network (a PVC mounted by
// a store pod, read and written by the operator):
//
//	PUT    /objects/<key>        the body, with a Content-Length, or
//	                             chunked with the trailer
//	                             Shoal-Object-Length: a body that ends
//	                             before the length it declares (or
//	                             declares none) is refused and leaves no
//	                             object
//	GET    /objects/<key>        the object; 404 when missing
//	DELETE /objects/<folder>/    removes the folder (RemoveAll)
//	GET    /list?prefix=<p>      the keys under p, a JSON array
//	GET    /healthz              200, without a token (the readiness probe)
//
// Every request but /healthz carries "Authorization: Bearer <token>".
const (
	objectsPath   = "/objects/"
	listPath      = "/list"
	HealthzPath   = "/healthz"
	lengthTrailer = "Shoal-Object-Length"
)

// errTruncated: an upload's body ended before its declared length, or
// without declaring one.
var errTruncated = errors.New("upload truncated: the body ends before its declared length")

// ObjectsHandler serves objs over HTTP to the bearers of token.
func ObjectsHandler(objs Objects, token string) http.Handler {
	return &objectsHandler{objs: objs, token: []byte("Bearer " + token)}
}

type objectsHandler struct {
	objs  Objects
	token []byte
}

func (h *objectsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HealthzPath {
		w.WriteHeader(http.StatusOK)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), h.token) != 1 {
		http.Error(w, "a bearer token is required", http.StatusUnauthorized)
		return
	}
	ctx := r.Context()
	if r.URL.Path == listPath && r.Method == http.MethodGet {
		keys, err := h.objs.List(ctx, r.URL.Query().Get("prefix"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(append([]string{}, keys...))
		return
	}
	key, ok := strings.CutPrefix(r.URL.Path, objectsPath)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := CheckKey(strings.TrimSuffix(key, "/")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodPut:
		declared := func() string { return r.Trailer.Get(lengthTrailer) }
		if r.ContentLength >= 0 {
			declared = func() string { return strconv.FormatInt(r.ContentLength, 10) }
		}
		body := &declaredBody{r: r.Body, trailer: declared}
		if err := h.objs.Put(ctx, key, body, -1, r.Header.Get("Content-Type")); err != nil {
			http.Error(w, err.Error(), statusOf(err))
			return
		}
		w.WriteHeader(http.StatusCreated)
	case http.MethodGet:
		rd, err := h.objs.Get(ctx, key)
		if err != nil {
			http.Error(w, err.Error(), statusOf(err))
			return
		}
		defer rd.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = io.Copy(w, rd)
	case http.MethodDelete:
		if err := h.objs.RemoveAll(ctx, key); err != nil {
			http.Error(w, err.Error(), statusOf(err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrBadKey), errors.Is(err, errTruncated):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// declaredBody reads an upload's body and, at its end, checks the length
// it declares: a body cut short by a client that stopped (its chunked
// encoding ended cleanly, but early) is an error, not an end.
type declaredBody struct {
	r       io.Reader
	n       int64
	trailer func() string
}

func (b *declaredBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if errors.Is(err, io.EOF) {
		if want, perr := strconv.ParseInt(b.trailer(), 10, 64); perr != nil || want != b.n {
			return n, fmt.Errorf("%w (%d bytes read, %q declared)", errTruncated, b.n, b.trailer())
		}
	}
	return n, err
}

// HTTPStore is the client of a store served by ObjectsHandler.
type HTTPStore struct {
	base  string
	token string
	c     *http.Client
}

// NewHTTPStore talks to the store at base (http://host:port) with token;
// c nil is http.DefaultClient. It does not talk to the store.
func NewHTTPStore(base, token string, c *http.Client) *HTTPStore {
	if c == nil {
		c = http.DefaultClient
	}
	return &HTTPStore{base: strings.TrimSuffix(base, "/"), token: token, c: c}
}

func (s *HTTPStore) url(p string, q url.Values) string {
	u := url.URL{Path: p, RawQuery: q.Encode()}
	return s.base + u.String()
}

func (s *HTTPStore) do(req *http.Request, want int) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == want {
		return resp, nil
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	err = fmt.Errorf("store %s %s: %s: %s", req.Method, req.URL.Path, resp.Status, strings.TrimSpace(string(msg)))
	if resp.StatusCode == http.StatusNotFound {
		err = fmt.Errorf("%w (%v)", ErrNotFound, err)
	}
	return nil, err
}

// Put streams r to key (chunked: nothing is held but the transport's
// buffer), declaring its length in a trailer once r ends.
func (s *HTTPStore) Put(ctx context.Context, key string, r io.Reader, _ int64, contentType string) error {
	trailer := http.Header{lengthTrailer: nil}
	body := &countingBody{r: r, done: func(n int64) { trailer.Set(lengthTrailer, strconv.FormatInt(n, 10)) }}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.url(objectsPath+key, nil), body)
	if err != nil {
		return err
	}
	req.ContentLength = -1
	req.Trailer = trailer
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.do(req, http.StatusCreated)
	if err != nil {
		if body.err != nil {
			return fmt.Errorf("upload of %s: %w", key, body.err)
		}
		return fmt.Errorf("upload of %s: %w", key, err)
	}
	return resp.Body.Close()
}

// countingBody counts what r gives and calls done with the count at its
// end (before the EOF is seen by the transport, which then sends the
// trailer); err keeps r's own error.
type countingBody struct {
	r    io.Reader
	n    int64
	done func(int64)
	err  error
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	switch {
	case errors.Is(err, io.EOF):
		b.done(b.n)
	case err != nil:
		b.err = err
	}
	return n, err
}

// Get opens key: the response body, streamed.
func (s *HTTPStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url(objectsPath+key, nil), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.do(req, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("download of %s: %w", key, err)
	}
	return resp.Body, nil
}

// List returns the keys under prefix.
func (s *HTTPStore) List(ctx context.Context, prefix string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url(listPath, url.Values{"prefix": {prefix}}), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.do(req, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", prefix, err)
	}
	defer resp.Body.Close()
	var keys []string
	if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil {
		return nil, fmt.Errorf("listing %s: %w", prefix, err)
	}
	return keys, nil
}

// RemoveAll removes the folder prefix, which must end with "/".
func (s *HTTPStore) RemoveAll(ctx context.Context, prefix string) error {
	if !strings.HasSuffix(prefix, "/") || prefix == "/" {
		return fmt.Errorf("refusing to remove %q: not a folder", prefix)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.url(objectsPath+prefix, nil), nil)
	if err != nil {
		return err
	}
	resp, err := s.do(req, http.StatusNoContent)
	if err != nil {
		return fmt.Errorf("removing %s: %w", prefix, err)
	}
	return resp.Body.Close()
}
