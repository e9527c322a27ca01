// Package scripting is the data node's Lua runtime for EVAL and FCALL, as
// Redis 7.0 embeds Lua 5.1 (script.c, script_lua.c, eval.c,
// function_lua.c): one Lua state per server, kept across calls, scripts
// compiled once and cached by their SHA1, the sandbox (base, table,
// string, math, coroutine, and the libraries of node/scripting/lualib;
// globals read-only), the redis.* API, and the conversions between RESP
// replies and Lua values.
//
// The Lua is github.com/yuin/gopher-lua: a maintained, pure-Go Lua 5.1
// (no cgo, so the node stays a static binary). It has no debug hooks; the
// runtime gets its instruction hook from the context the VM polls before
// each instruction (hook.go).
//
// Commands a script runs go through the engine as Redis's script client
// (command.Ctx.ScriptCall, node/server script_engine.go); the command
// handlers are node/commands/scripting.
package scripting
