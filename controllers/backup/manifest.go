package backup

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// ManifestName is the manifest's object name in a backup's folder.
const ManifestName = "manifest.json"

// ManifestFormat is the version of the manifest this build writes and
// reads.
const ManifestFormat = 1

// Manifest describes a backup: one object per shard and the slot map at
// the time. It is written last, so a folder without one is an unfinished
// backup.
type Manifest struct {
	Format         int       `json:"format"`
	Namespace      string    `json:"namespace"`
	Cluster        string    `json:"cluster"`
	Backup         string    `json:"backup"`
	StartTime      time.Time `json:"startTime"`
	CompletionTime time.Time `json:"completionTime"`
	// Compression of every shard object: None, Gzip or Zstd.
	Compression string          `json:"compression"`
	Shards      []ManifestShard `json:"shards"`
}

// ManifestShard is one shard's snapshot.
type ManifestShard struct {
	Shard  int      `json:"shard"`
	NodeID string   `json:"nodeID"`
	Pod    string   `json:"pod"`
	Slots  []string `json:"slots"`
	// Object is the object's name in the backup's folder.
	Object string `json:"object"`
	// Size and SHA256 are the object's (compressed) bytes'; RDBSize and
	// RDBSHA256 the snapshot's.
	Size              int64  `json:"size"`
	SHA256            string `json:"sha256"`
	RDBSize           int64  `json:"rdbSize"`
	RDBSHA256         string `json:"rdbSHA256"`
	ReplicationID     string `json:"replicationID"`
	ReplicationOffset int64  `json:"replicationOffset"`
	DurationMillis    int64  `json:"durationMillis"`
}

// Folder is the key prefix of a backup's objects, ending with "/".
func Folder(prefix, namespace, cluster, backup string) string {
	return path.Join(prefix, namespace, cluster, backup) + "/"
}

// ObjectName is a shard's object name for a compression.
func ObjectName(shard int, compression string) string {
	return fmt.Sprintf("shard-%d.rdb", shard) + compressionSuffix(compression)
}

// ParseManifest decodes and validates a manifest: its format, the shards'
// object names and checksums, and that their slots cover every slot
// exactly once.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}

// Validate checks what a restore relies on.
func (m *Manifest) Validate() error {
	if m.Format != ManifestFormat {
		return fmt.Errorf("format %d, this operator reads %d", m.Format, ManifestFormat)
	}
	if _, err := newDecompressor(strings.NewReader(""), m.Compression, true); err != nil {
		return err
	}
	if len(m.Shards) == 0 {
		return errors.New("no shard")
	}
	var owner [clusteradmin.SlotCount]bool
	for _, s := range m.Shards {
		if s.Object == "" || strings.ContainsAny(s.Object, "/\\") || s.Object == "." || s.Object == ".." {
			return fmt.Errorf("shard %d: bad object name %q", s.Shard, s.Object)
		}
		if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != 32 {
			return fmt.Errorf("shard %d: bad sha256 %q", s.Shard, s.SHA256)
		}
		if s.Size < 0 {
			return fmt.Errorf("shard %d: bad size %d", s.Shard, s.Size)
		}
		for _, r := range s.Slots {
			sr, err := topology.ParseSlotRange(r)
			if err != nil {
				return fmt.Errorf("shard %d: %w", s.Shard, err)
			}
			for i := sr.First; i <= sr.Last; i++ {
				if owner[i] {
					return fmt.Errorf("slot %d is in two shards", i)
				}
				owner[i] = true
			}
		}
	}
	for i, ok := range owner {
		if !ok {
			return fmt.Errorf("slot %d is in no shard", i)
		}
	}
	return nil
}
