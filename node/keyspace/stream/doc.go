// Package stream is the stream data type: entries (an ID and field/value
// pairs) packed, as Redis packs them in listpacks under a radix tree, in
// byte blocks of up to NodeMaxEntries entries / NodeMaxBytes bytes, kept in
// a slice ordered by their first ID; and the consumer groups with their
// pending entries lists (PEL) and consumers.
//
// The package has no knowledge of commands or of the file formats: it
// exposes iteration over entries, groups, PEL and consumers, and a builder
// (New, Append, AddGroup, Group.AddPending ...), which the persistence
// codecs (the snapshot/DUMP format, Redis's RDB) use to encode and rebuild
// a stream.
package stream
