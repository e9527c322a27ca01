package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readArchive returns every regular file of the tarball by name.
func readArchive(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = data
	}
}

func blob(t *testing.T, files map[string][]byte, digest string) []byte {
	t.Helper()
	algo, hexs, ok := strings.Cut(digest, ":")
	if !ok {
		t.Fatalf("bad digest %q", digest)
	}
	data, ok := files["blobs/"+algo+"/"+hexs]
	if !ok {
		t.Fatalf("blob %s missing from archive", digest)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != hexs {
		t.Fatalf("blob %s has content digest %x", digest, sum)
	}
	return data
}

// TestArchiveIsOCILayoutAndDockerArchive checks that one tarball is a valid
// OCI image layout (what ctr imports) and a Docker archive (what docker load
// and kind read), both naming the image and pointing at content-addressed blobs
// that hold the binary at the requested path.
func TestArchiveIsOCILayoutAndDockerArchive(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	payload := []byte("#!not-really-elf payload")
	if err := os.WriteFile(bin, payload, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "img.tar")
	err := run([]string{"-tag", "shoal/node:test", "-out", out, "-entrypoint", "/app",
		"-file", bin + "=/app", "-dir", "/data", "-ports", "6379/tcp"})
	if err != nil {
		t.Fatal(err)
	}
	files := readArchive(t, out)

	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
			Platform    map[string]string `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(index.Manifests))
	}
	m := index.Manifests[0]
	if got := m.Annotations["io.containerd.image.name"]; got != "docker.io/shoal/node:test" {
		t.Errorf("containerd image name = %q", got)
	}
	if m.Platform["architecture"] != "amd64" || m.Platform["os"] != "linux" {
		t.Errorf("platform = %v", m.Platform)
	}
	if _, ok := files["oci-layout"]; !ok {
		t.Error("oci-layout file missing")
	}

	var manifest struct {
		Config struct{ Digest string }   `json:"config"`
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal(blob(t, files, m.Digest), &manifest); err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Config       struct {
			Entrypoint   []string            `json:"Entrypoint"`
			User         string              `json:"User"`
			ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		} `json:"config"`
	}
	if err := json.Unmarshal(blob(t, files, manifest.Config.Digest), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != "amd64" || cfg.OS != "linux" || len(cfg.Config.Entrypoint) != 1 ||
		cfg.Config.Entrypoint[0] != "/app" || cfg.Config.User != "65532:65532" {
		t.Errorf("config = %+v", cfg)
	}
	if _, ok := cfg.Config.ExposedPorts["6379/tcp"]; !ok {
		t.Errorf("port 6379/tcp not exposed: %v", cfg.Config.ExposedPorts)
	}
	if len(manifest.Layers) != 1 {
		t.Fatalf("%d layers, want 1", len(manifest.Layers))
	}
	layer := blob(t, files, manifest.Layers[0].Digest)
	zr, err := gzip.NewReader(bytes.NewReader(layer))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	seen := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[h.Name] = h
		if h.Name == "app" {
			got, _ := io.ReadAll(tr)
			if !bytes.Equal(got, payload) {
				t.Errorf("binary content differs in layer")
			}
		}
	}
	if h := seen["app"]; h == nil || h.Mode&0o111 == 0 {
		t.Errorf("app missing or not executable: %+v", h)
	}
	if h := seen["data/"]; h == nil || h.Uid != 65532 {
		t.Errorf("data dir missing or not owned by the image user: %+v", h)
	}

	var docker []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &docker); err != nil {
		t.Fatal(err)
	}
	if len(docker) != 1 || len(docker[0].RepoTags) != 1 || docker[0].RepoTags[0] != "shoal/node:test" {
		t.Fatalf("docker manifest = %+v", docker)
	}
	if _, ok := files[docker[0].Config]; !ok {
		t.Errorf("docker manifest config %s not in archive", docker[0].Config)
	}
	for _, l := range docker[0].Layers {
		if _, ok := files[l]; !ok {
			t.Errorf("docker manifest layer %s not in archive", l)
		}
	}
}

// TestSameInputsSameDigest: images are reproducible, so rebuilding unchanged
// binaries does not create a new image in containerd.
func TestSameInputsSameDigest(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	var digests []string
	for i := range 2 {
		out := filepath.Join(dir, "img"+string(rune('a'+i))+".tar")
		if err := run([]string{"-tag", "shoal/x:1", "-out", out, "-file", bin + "=/app"}); err != nil {
			t.Fatal(err)
		}
		digests = append(digests, string(readArchive(t, out)["index.json"]))
	}
	if digests[0] != digests[1] {
		t.Errorf("index differs between identical builds:\n%s\n%s", digests[0], digests[1])
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-tag", "a:b", "-out", "x.tar"},
		{"-tag", "a:b", "-out", "x.tar", "-file", "noequals"},
		{"-tag", "a:b", "-out", "x.tar", "-file", "src=relative"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) succeeded, want an error", args)
		}
	}
}
