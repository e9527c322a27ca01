package server

// LOLWUT, as Redis 7.0: the version line of this server, or of the
// version VERSION names.

func lolwutHandlers() map[string]Handler {
	return map[string]Handler{"lolwut": cmdLolwut}
}

// cmdLolwut answers "Redis ver. <version>\n" as Redis 7.0's
// lolwutUnstableCommand. VERSION n is parsed as Redis parses it (an
// integer, or "value is not an integer"), and chooses the artwork: Redis
// draws Schotter for 5 and skyscrapers for 6 (random drawings); this
// server answers the version line for every n.
func cmdLolwut(c *Client) {
	if len(c.Args) >= 3 && eqFold(c.Args[1], "version") {
		if _, ok := c.ParseInt(c.Args[2]); !ok {
			return
		}
	}
	c.W.Verbatim("txt", "Redis ver. "+RedisVersion+"\n")
}
