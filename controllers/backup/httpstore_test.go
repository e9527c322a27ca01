package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const testToken = "s3cret-token"

// serveDir serves a DirStore on a directory under a temporary one (so a
// key that escapes it would land in the parent) and returns the client,
// the server and the parent.
func serveDir(t *testing.T, wrap func(Objects) Objects) (*HTTPStore, *httptest.Server, string) {
	t.Helper()
	parent := t.TempDir()
	d, err := NewDirStore(filepath.Join(parent, "store"))
	if err != nil {
		t.Fatal(err)
	}
	var objs Objects = d
	if wrap != nil {
		objs = wrap(d)
	}
	srv := httptest.NewServer(ObjectsHandler(objs, testToken))
	t.Cleanup(srv.Close)
	return NewHTTPStore(srv.URL, testToken, srv.Client()), srv, parent
}

func TestHTTPStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _, _ := serveDir(t, nil)
	objs := map[string]string{"ns/c/b1/manifest.json": `{"a":1}`, "ns/c/b1/shard-0.rdb": "REDIS0011...", "ns/c/b2/shard-0.rdb": "", "other/x": "y"}
	for k, v := range objs {
		if err := s.Put(ctx, k, strings.NewReader(v), int64(len(v)), "application/octet-stream"); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	for k, v := range objs {
		if got := string(getAll(t, s, k)); got != v {
			t.Errorf("get %s: %q, want %q", k, got, v)
		}
	}
	keys, err := s.List(ctx, "ns/c/")
	if want := []string{"ns/c/b1/manifest.json", "ns/c/b1/shard-0.rdb", "ns/c/b2/shard-0.rdb"}; err != nil || !slices.Equal(keys, want) {
		t.Errorf("list ns/c/: %q, %v; want %q", keys, err, want)
	}
	if keys, err := s.List(ctx, "none/"); err != nil || len(keys) != 0 {
		t.Errorf("list of an empty prefix: %q, %v", keys, err)
	}
	if err := s.RemoveAll(ctx, "ns/c/b1/"); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.List(ctx, "ns/"); err != nil || !slices.Equal(keys, []string{"ns/c/b2/shard-0.rdb"}) {
		t.Errorf("list after RemoveAll: %q, %v", keys, err)
	}
	if _, err := s.Get(ctx, "ns/c/b1/manifest.json"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get of a removed object: %v, want ErrNotFound", err)
	}
	if err := s.RemoveAll(ctx, "ns"); err == nil {
		t.Error("RemoveAll of a prefix that is not a folder succeeded")
	}
}

// gatedReader gives size pseudo-random bytes, but stops after gate bytes
// until released (or fails after a deadline): a client that held the
// whole body before sending would never see the server start reading.
type gatedReader struct {
	rng      *rand.ChaCha8
	size, n  int64
	gate     int64
	released <-chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.n >= g.size {
		return 0, io.EOF
	}
	if g.n >= g.gate && g.released != nil {
		select {
		case <-g.released:
			g.released = nil
		case <-time.After(20 * time.Second):
			return 0, errors.New("the server read nothing while the client had sent part of the body: the upload is buffered")
		}
	}
	p = p[:min(int64(len(p)), g.size-g.n)]
	_, _ = g.rng.Read(p)
	g.n += int64(len(p))
	return len(p), nil
}

// spyObjects reports on seen once a Put has read at least at bytes.
type spyObjects struct {
	Objects
	at   int64
	seen chan struct{}
}

func (s *spyObjects) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) error {
	return s.Objects.Put(ctx, key, &spyReader{r: r, s: s}, size, ct)
}

type spyReader struct {
	r    io.Reader
	n    int64
	s    *spyObjects
	done bool
}

func (r *spyReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if !r.done && r.n >= r.s.at {
		r.done = true
		close(r.s.seen)
	}
	return n, err
}

// TestHTTPStoreStreamsLargeObject uploads 96 MiB whose reader pauses
// after 16 MiB until the server has received 8 MiB of it (so the client
// streams: it does not hold the body), then reads it back and compares
// the SHA-256.
func TestHTTPStoreStreamsLargeObject(t *testing.T) {
	ctx := context.Background()
	spy := &spyObjects{at: 8 << 20, seen: make(chan struct{})}
	s, _, _ := serveDir(t, func(o Objects) Objects { spy.Objects = o; return spy })
	const size = 96 << 20
	var seed [32]byte
	src := &gatedReader{rng: rand.NewChaCha8(seed), size: size, gate: 16 << 20, released: spy.seen}
	if err := s.Put(ctx, "big/shard-0.rdb", src, -1, ""); err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	if _, err := io.Copy(want, &gatedReader{rng: rand.NewChaCha8(seed), size: size}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Get(ctx, "big/shard-0.rdb")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := sha256.New()
	n, err := io.Copy(got, r)
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("read back %d bytes (%v), digest equal: %v", n, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
}

func TestHTTPStoreRefusesWithoutToken(t *testing.T) {
	ctx := context.Background()
	s, srv, _ := serveDir(t, nil)
	if err := s.Put(ctx, "a/b", strings.NewReader("secret"), -1, ""); err != nil {
		t.Fatal(err)
	}
	wrong := NewHTTPStore(srv.URL, "guess", srv.Client())
	if _, err := wrong.Get(ctx, "a/b"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("get with a wrong token: %v, want 401", err)
	}
	if _, err := wrong.List(ctx, ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("list with a wrong token: %v, want 401", err)
	}
	if err := wrong.Put(ctx, "a/b", strings.NewReader("overwritten"), -1, ""); err == nil {
		t.Error("put with a wrong token succeeded")
	}
	if err := wrong.RemoveAll(ctx, "a/"); err == nil {
		t.Error("RemoveAll with a wrong token succeeded")
	}
	resp, err := http.Get(srv.URL + "/objects/a/b")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("get without a token: %s", resp.Status)
	}
	if got := string(getAll(t, s, "a/b")); got != "secret" {
		t.Errorf("the object after refused writes: %q", got)
	}
	resp, err = http.Get(srv.URL + HealthzPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz without a token: %s", resp.Status)
	}
}

// rawRequest writes req as is on a new connection to srv and returns the
// response's status code.
func rawRequest(t *testing.T, srv *httptest.Server, req string) int {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestHTTPStoreRefusesPathTraversal(t *testing.T) {
	ctx := context.Background()
	s, srv, parent := serveDir(t, nil)
	auth := "Authorization: Bearer " + testToken + "\r\n"
	for _, p := range []string{"/objects/../x", "/objects/a/../../x", "/objects/%2e%2e/x", "/objects//etc/x", "/objects/a/.partial-1"} {
		req := "PUT " + p + " HTTP/1.1\r\nHost: s\r\n" + auth + "Transfer-Encoding: chunked\r\nTrailer: Shoal-Object-Length\r\n\r\n1\r\nx\r\n0\r\nShoal-Object-Length: 1\r\n\r\n"
		if code := rawRequest(t, srv, req); code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d, want 400", p, code)
		}
		if code := rawRequest(t, srv, "GET "+p+" HTTP/1.1\r\nHost: s\r\n"+auth+"\r\n"); code != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", p, code)
		}
	}
	if code := rawRequest(t, srv, "DELETE /objects/../ HTTP/1.1\r\nHost: s\r\n"+auth+"\r\n"); code != http.StatusBadRequest {
		t.Errorf("DELETE /objects/../: %d, want 400", code)
	}
	if err := s.Put(ctx, "../x", strings.NewReader("x"), -1, ""); err == nil {
		t.Error("the client's put of ../x succeeded")
	}
	if _, err := os.Stat(filepath.Join(parent, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written outside the store: %v", err)
	}
}

// TestHTTPStoreTruncatedUploadLeavesNoObject: an upload whose reader
// fails, whose connection drops mid-body (chunked, or with a
// Content-Length), whose body ends short of the length it declares, or
// that declares none, leaves no object (nor a temporary file, once the
// server is done with it).
func TestHTTPStoreTruncatedUploadLeavesNoObject(t *testing.T) {
	ctx := context.Background()
	s, srv, parent := serveDir(t, nil)
	failing := io.MultiReader(strings.NewReader(strings.Repeat("x", 1<<20)), iotestErrReader{})
	if err := s.Put(ctx, "t/failed", failing, -1, ""); err == nil {
		t.Error("a put whose reader failed succeeded")
	}
	auth := "Authorization: Bearer " + testToken + "\r\n"
	head := "PUT /objects/t/%s HTTP/1.1\r\nHost: s\r\n" + auth + "Transfer-Encoding: chunked\r\nTrailer: Shoal-Object-Length\r\n\r\n"
	if code := rawRequest(t, srv, fmt.Sprintf(head, "short")+"5\r\nhello\r\n0\r\nShoal-Object-Length: 10\r\n\r\n"); code != http.StatusBadRequest {
		t.Errorf("a body shorter than declared: %d, want 400", code)
	}
	if code := rawRequest(t, srv, fmt.Sprintf(head, "undeclared")+"5\r\nhello\r\n0\r\n\r\n"); code != http.StatusBadRequest {
		t.Errorf("a body without its length: %d, want 400", code)
	}
	// The connection drops in the middle of a chunk.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, fmt.Sprintf(head, "dropped")+"100000\r\n"+strings.Repeat("y", 4096)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if code := rawRequest(t, srv, fmt.Sprintf(head, "whole")+"5\r\nhello\r\n0\r\nShoal-Object-Length: 5\r\n\r\n"); code != http.StatusCreated {
		t.Errorf("a whole raw upload: %d, want 201", code)
	}
	// With a Content-Length (curl -T file), and the connection dropped
	// before its end.
	if code := rawRequest(t, srv, "PUT /objects/t/sized HTTP/1.1\r\nHost: s\r\n"+auth+"Content-Length: 5\r\n\r\nhello"); code != http.StatusCreated {
		t.Errorf("an upload with a Content-Length: %d, want 201", code)
	}
	conn, err = net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "PUT /objects/t/cut HTTP/1.1\r\nHost: s\r\n"+auth+"Content-Length: 100000\r\n\r\n"+strings.Repeat("z", 4096)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		keys, err := s.List(ctx, "t/")
		files, _ := filepath.Glob(filepath.Join(parent, "store", "t", "*"))
		if err == nil && slices.Equal(keys, []string{"t/sized", "t/whole"}) && len(files) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after truncated uploads: keys %q (%v), files %q; want t/sized and t/whole alone", keys, err, files)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("the snapshot stream broke") }
