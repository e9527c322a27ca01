package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(s string) error { *f = append(*f, s); return nil }

type options struct {
	tag        string
	out        string
	entrypoint []string
	cmd        []string
	user       string
	ports      []string
	files      []fileMapping
	dirs       []string
}

type fileMapping struct {
	src, dst string
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "imagetool:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	img, err := buildImage(opts)
	if err != nil {
		return err
	}
	ref, err := name.NewTag(opts.tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", opts.tag, err)
	}
	if err := os.MkdirAll(filepath.Dir(opts.out), 0o755); err != nil {
		return err
	}
	tmp := opts.out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := writeArchive(f, ref, img); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, opts.out)
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("imagetool", flag.ContinueOnError)
	var o options
	var files, dirs fileList
	var entry, cmd, ports string
	fs.StringVar(&o.tag, "tag", "", "image reference, e.g. shoal/node:dev")
	fs.StringVar(&o.out, "out", "", "output tarball path")
	fs.StringVar(&entry, "entrypoint", "", "entrypoint, space separated")
	fs.StringVar(&cmd, "cmd", "", "default arguments, space separated")
	fs.StringVar(&o.user, "user", "65532:65532", "user:group the image runs as")
	fs.StringVar(&ports, "ports", "", "exposed ports, comma separated (6379/tcp)")
	fs.Var(&files, "file", "SRC=DST: copy host file SRC to DST in the image (repeatable)")
	fs.Var(&dirs, "dir", "DST: create an empty directory writable by the user (repeatable)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.tag == "" || o.out == "" || len(files) == 0 {
		return o, errors.New("-tag, -out and at least one -file are required")
	}
	for _, f := range files {
		src, dst, ok := strings.Cut(f, "=")
		if !ok || !strings.HasPrefix(dst, "/") {
			return o, fmt.Errorf("-file %q: want SRC=/DST", f)
		}
		o.files = append(o.files, fileMapping{src: src, dst: dst})
	}
	o.dirs = dirs
	o.entrypoint = strings.Fields(entry)
	o.cmd = strings.Fields(cmd)
	if ports != "" {
		o.ports = strings.Split(ports, ",")
	}
	return o, nil
}

// buildImage returns a one-layer OCI image holding the given files.
func buildImage(o options) (v1.Image, error) {
	layerTar, err := layerBytes(o)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = "amd64"
	cfg.OS = "linux"
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config.Entrypoint = o.entrypoint
	cfg.Config.Cmd = o.cmd
	cfg.Config.User = o.user
	cfg.Config.Env = []string{"PATH=/"}
	if len(o.ports) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range o.ports {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	return mutate.ConfigFile(img, cfg)
}

// layerBytes is the uncompressed tar of the image's single layer. Timestamps
// are fixed so the same binaries give the same image digest.
func layerBytes(o options) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0).UTC()
	uid, gid := 65532, 65532
	fmt.Sscanf(o.user, "%d:%d", &uid, &gid)
	for _, d := range []string{"tmp"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o1777, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	for _, d := range o.dirs {
		h := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, Uid: uid, Gid: gid, ModTime: epoch}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	for _, f := range o.files {
		data, err := os.ReadFile(f.src)
		if err != nil {
			return nil, err
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(f.dst, "/"), Mode: 0o755, Size: int64(len(data)), ModTime: epoch}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeArchive writes an OCI image layout plus a Docker manifest.json into
// one tar stream; both point at the same blobs.
func writeArchive(w io.Writer, ref name.Tag, img v1.Image) error {
	tw := tar.NewWriter(w)
	epoch := time.Unix(0, 0).UTC()
	add := func(path string, data []byte) error {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: 0o644, Size: int64(len(data)), ModTime: epoch}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	blobPath := func(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "blobs/sha256/", Mode: 0o755, ModTime: epoch}); err != nil {
		return err
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	cfgRaw, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	if err := add(blobPath(cfgName), cfgRaw); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	var layerPaths []string
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			return err
		}
		if err := add(blobPath(d), data); err != nil {
			return err
		}
		layerPaths = append(layerPaths, blobPath(d))
	}
	manifest, err := img.RawManifest()
	if err != nil {
		return err
	}
	mDigest, err := img.Digest()
	if err != nil {
		return err
	}
	if err := add(blobPath(mDigest), manifest); err != nil {
		return err
	}
	// containerd and the kubelet name Docker Hub images docker.io/...; the
	// library normalises them to index.docker.io/..., which would not match.
	fullName := strings.Replace(ref.Context().Name(), "index.docker.io/", "docker.io/", 1) + ":" + ref.TagStr()
	index := map[string]any{
		"schemaVersion": 2,
		"mediaType":     string(types.OCIImageIndex),
		"manifests": []map[string]any{{
			"mediaType": string(types.OCIManifestSchema1),
			"digest":    mDigest.String(),
			"size":      len(manifest),
			"platform":  map[string]string{"architecture": "amd64", "os": "linux"},
			"annotations": map[string]string{
				"io.containerd.image.name":          fullName,
				"org.opencontainers.image.ref.name": ref.TagStr(),
			},
		}},
	}
	indexRaw, err := json.Marshal(index)
	if err != nil {
		return err
	}
	if err := add("index.json", indexRaw); err != nil {
		return err
	}
	if err := add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	docker := []map[string]any{{
		"Config":   blobPath(cfgName),
		"RepoTags": []string{ref.String()},
		"Layers":   layerPaths,
	}}
	dockerRaw, err := json.Marshal(docker)
	if err != nil {
		return err
	}
	if err := add("manifest.json", dockerRaw); err != nil {
		return err
	}
	return tw.Close()
}
