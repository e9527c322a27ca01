// Package scripting is the scripting command family: EVAL, EVALSHA,
// EVAL_RO, EVALSHA_RO, SCRIPT (LOAD, EXISTS, FLUSH, KILL, DEBUG, HELP),
// FUNCTION and FCALL, as Redis 7.0's eval.c and functions.c. The Lua
// runtime they drive is node/scripting.
package scripting
