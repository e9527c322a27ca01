package command

// RedisVersion is the Redis version the node is compatible with (HELLO,
// INFO): clients enable features by it.
const RedisVersion = "7.0.15"
