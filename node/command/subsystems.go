package command

// subsystemCommands are the specs of the generic commands whose handlers
// live in the subsystems the engine plugs in (persistence: DUMP, RESTORE;
// the cluster node: MIGRATE; replication: WAIT). They are joined with
// those handlers by name until each subsystem carries its own rows.
func subsystemCommands() []Spec {
	return []Spec{
		{Name: "dump", Arity: 2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: CatKeyspace | CatRead | CatSlow,
			Tips:       []string{"nondeterministic_output"},
			KeySpecs: []KeySpec{
				{Flags: KeyRO | KeyAccess, Begin: BeginIndex(1), Find: FindRange(0, 1, 0)},
			},
			Doc: Doc{Group: "generic", Since: "2.6.0", Summary: "Return a serialized version of the value stored at the specified key.", Complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).", Arguments: []Arg{
				{Name: "key", Type: "key", KeySpecIndex: KeySpecAt(0)},
			}},
		},
		{Name: "migrate", Arity: -6, Flags: Write | OwnGoroutine, FirstKey: 3, LastKey: 3, Step: 1,
			Keys:       MigrateKeys,
			Secrets:    MigrateSecrets,
			Categories: CatKeyspace | CatWrite | CatSlow | CatDangerous,
			Tips:       []string{"nondeterministic_output"},
			KeySpecs: []KeySpec{
				{Flags: KeyRW | KeyAccess | KeyDelete, Begin: BeginIndex(3), Find: FindRange(0, 1, 0)},
				{Flags: KeyRW | KeyAccess | KeyDelete | KeyIncomplete, Begin: BeginKeyword("KEYS", -2), Find: FindRange(-1, 1, 0)},
			},
			Doc: Doc{Group: "generic", Since: "2.6.0", Summary: "Atomically transfer a key from a Redis instance to another one.", Complexity: "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.", History: [][2]string{{"3.0.0", "Added the `COPY` and `REPLACE` options."}, {"3.0.6", "Added the `KEYS` option."}, {"4.0.7", "Added the `AUTH` option."}, {"6.0.0", "Added the `AUTH2` option."}}, Arguments: []Arg{
				{Name: "host", Type: "string"},
				{Name: "port", Type: "integer"},
				{Name: "key_or_empty_string", Type: "oneof", Arguments: []Arg{
					{Name: "key", Type: "key", KeySpecIndex: KeySpecAt(0)},
					{Name: "empty_string", Type: "pure-token", Token: ""},
				}},
				{Name: "destination-db", Type: "integer"},
				{Name: "timeout", Type: "integer"},
				{Name: "copy", Type: "pure-token", Token: "COPY", Since: "3.0.0", Optional: true},
				{Name: "replace", Type: "pure-token", Token: "REPLACE", Since: "3.0.0", Optional: true},
				{Name: "authentication", Type: "oneof", Optional: true, Arguments: []Arg{
					{Name: "password", Type: "string", Token: "AUTH", Since: "4.0.7", Optional: true},
					{Name: "username_password", Type: "block", Token: "AUTH2", Since: "6.0.0", Optional: true, Arguments: []Arg{
						{Name: "username", Type: "string"},
						{Name: "password", Type: "string"},
					}},
				}},
				{Name: "key", Type: "key", Token: "KEYS", Since: "3.0.6", KeySpecIndex: KeySpecAt(1), Optional: true, Multiple: true},
			}},
		},
		{Name: "restore", Arity: -4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: CatKeyspace | CatWrite | CatSlow | CatDangerous,
			KeySpecs: []KeySpec{
				{Flags: KeyOW | KeyUpdate, Begin: BeginIndex(1), Find: FindRange(0, 1, 0)},
			},
			Doc: Doc{Group: "generic", Since: "2.6.0", Summary: "Create a key using the provided serialized value, previously obtained using DUMP.", Complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", History: [][2]string{{"3.0.0", "Added the `REPLACE` modifier."}, {"5.0.0", "Added the `ABSTTL` modifier."}, {"5.0.0", "Added the `IDLETIME` and `FREQ` options."}}, Arguments: []Arg{
				{Name: "key", Type: "key", KeySpecIndex: KeySpecAt(0)},
				{Name: "ttl", Type: "integer"},
				{Name: "serialized-value", Type: "string"},
				{Name: "replace", Type: "pure-token", Token: "REPLACE", Since: "3.0.0", Optional: true},
				{Name: "absttl", Type: "pure-token", Token: "ABSTTL", Since: "5.0.0", Optional: true},
				{Name: "seconds", Type: "integer", Token: "IDLETIME", Since: "5.0.0", Optional: true},
				{Name: "frequency", Type: "integer", Token: "FREQ", Since: "5.0.0", Optional: true},
			}},
		},
		{Name: "wait", Arity: 3, Flags: NoScript, FirstKey: 0, LastKey: 0, Step: 0,
			Categories: CatSlow | CatConnection,
			Tips:       []string{"request_policy:all_shards", "response_policy:agg_min"},
			Doc: Doc{Group: "generic", Since: "3.0.0", Summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection", Complexity: "O(1)", Arguments: []Arg{
				{Name: "numreplicas", Type: "integer"},
				{Name: "timeout", Type: "integer"},
			}},
		},
	}
}
