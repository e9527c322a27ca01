package backup

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/controllers/backup/sealed"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// ManifestName is the manifest's object name in a backup's folder.
const ManifestName = "manifest.json"

// ManifestFormat is the version of the manifest this build writes and
// reads.
const ManifestFormat = 1

// The kinds a backup is of (Manifest.Kind).
const (
	KindCluster     = "RedisCluster"
	KindReplication = "RedisReplication"
)

// Manifest describes a backup: one object per shard and the slot map at
// the time. It is written last, so a folder without one is an unfinished
// backup.
type Manifest struct {
	Format int `json:"format"`
	// Kind is what was backed up: RedisCluster (also when empty, as in
	// manifests written before RedisReplication backups) or
	// RedisReplication (one shard, every database, no slots).
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace"`
	// Cluster is the RedisCluster's name; Replication the
	// RedisReplication's.
	Cluster        string    `json:"cluster,omitempty"`
	Replication    string    `json:"replication,omitempty"`
	Backup         string    `json:"backup"`
	StartTime      time.Time `json:"startTime"`
	CompletionTime time.Time `json:"completionTime"`
	// Compression of every shard object: None, Gzip or Zstd.
	Compression string `json:"compression"`
	// Encryption of every shard object: "" (none) or AES-256-GCM (the
	// sealed format), with the ID of its key.
	Encryption string          `json:"encryption,omitempty"`
	KeyID      string          `json:"keyID,omitempty"`
	Shards     []ManifestShard `json:"shards"`
}

// ManifestShard is one shard's snapshot.
type ManifestShard struct {
	Shard  int      `json:"shard"`
	NodeID string   `json:"nodeID,omitempty"`
	Pod    string   `json:"pod"`
	Slots  []string `json:"slots,omitempty"`
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

// ObjectName is a shard's object name for a format: shard-<n>.rdb, then
// .gz or .zst when compressed, then .enc when encrypted.
func ObjectName(shard int, f Format) string {
	name := fmt.Sprintf("shard-%d.rdb", shard) + compressionSuffix(f.Compression)
	if f.Key != nil {
		name += ".enc"
	}
	return name
}

// SourceKind is Kind, RedisCluster when empty.
func (m *Manifest) SourceKind() string {
	if m.Kind == "" {
		return KindCluster
	}
	return m.Kind
}

// CheckKind reports whether the backup restores into a resource of kind:
// a backup of a RedisCluster only into a RedisCluster (its keys are in
// database 0, placed by slot), a backup of a RedisReplication only into a
// RedisReplication (its keys may be in any database).
func (m *Manifest) CheckKind(kind string) error {
	if k := m.SourceKind(); k != kind {
		return fmt.Errorf("the backup is of a %s, it cannot be restored into a %s", k, kind)
	}
	return nil
}

// CheckKey reports whether key opens the manifest's objects: nil when it
// is encrypted with key, or not encrypted (key is then not used).
func (m *Manifest) CheckKey(key []byte) error {
	switch {
	case m.Encryption == "":
		return nil
	case key == nil:
		return fmt.Errorf("the backup is encrypted (%s, key ID %s): its key is needed", m.Encryption, m.KeyID)
	case sealed.KeyID(key) != m.KeyID:
		return fmt.Errorf("%w: the backup's key ID is %s, the key given has %s", sealed.ErrWrongKey, m.KeyID, sealed.KeyID(key))
	}
	return nil
}

// ParseManifest decodes and validates a manifest: its format, the shards'
// object names and checksums, and that their slots cover every slot
// exactly once (a RedisCluster's) or that it has one shard without slots
// (a RedisReplication's).
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
	if m.Encryption != "" && m.Encryption != sealed.Algorithm {
		return fmt.Errorf("unknown encryption %q", m.Encryption)
	}
	if b, err := hex.DecodeString(m.KeyID); (m.Encryption != "") != (m.KeyID != "") || err != nil || m.KeyID != "" && len(b) != 8 {
		return fmt.Errorf("bad key ID %q for encryption %q", m.KeyID, m.Encryption)
	}
	if len(m.Shards) == 0 {
		return errors.New("no shard")
	}
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
	}
	switch m.SourceKind() {
	case KindCluster:
		return m.validateSlots()
	case KindReplication:
		if len(m.Shards) != 1 || len(m.Shards[0].Slots) != 0 {
			return fmt.Errorf("a backup of a %s has one shard without slots: this one has %d shards, the first with %d slot ranges", KindReplication, len(m.Shards), len(m.Shards[0].Slots))
		}
		return nil
	}
	return fmt.Errorf("unknown kind %q", m.Kind)
}

// validateSlots checks that the shards' slots cover every slot exactly
// once.
func (m *Manifest) validateSlots() error {
	var owner [clusteradmin.SlotCount]bool
	for _, s := range m.Shards {
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
