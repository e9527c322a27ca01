// Package lolwut is LOLWUT, as Redis 7.0: computer art (versions 5 and 6)
// and the version line, with Redis's defaults and limits for the art's
// parameters. A family of one command, so that the engine knows no art.
package lolwut
