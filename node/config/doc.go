// Package config is the node's configuration model, as Redis 7.0.15's
// config.c: the Config struct (redis.conf names) and the parameter table
// CONFIG GET/SET/REWRITE work through. It is data, like node/command: it
// knows nothing of the running server.
//
//   - config_table.go lists every parameter (every name of Redis 7.0's
//     CONFIG GET *, aliases included, plus the node's own) built from the
//     typed constructors of config_param.go (bool, numeric with Redis's
//     bounds and memory/percent/octal forms, enum, string) and the special
//     ones of config_special.go (save, bind, client-output-buffer-limit,
//     ...). Each row has Redis's flags (immutable, protected, multi-arg)
//     and, when the node accepts it without acting on it, the reason
//     (noEffect; config_inert.go holds most of those). repl_config.go and
//     cluster_config.go are the replication and cluster-* parameters,
//     config_encoding.go the *-max-listpack-* ones, config_notify.go the
//     notify-keyspace-events flags.
//   - config.go loads redis.conf text and command-line options as
//     loadServerConfigFromString, with its error report (ParseArgs);
//     config_rewrite.go is rewriteConfig, CONFIG REWRITE's file text.
//   - export.go is what the engine uses: NewTable, Table.Lookup/Get/Rewrite
//     and a Param's name, flags and setters.
//
// The engine (node/server) keeps CONFIG's handlers (config_cmd.go), the
// application of a changed value to the running server (configChanged),
// and the `user` lines' hand-over to node/acl; its config_diff_test.go
// checks all of it against redis-server.
package config
