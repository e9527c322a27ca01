// Package lualib holds the Lua libraries Redis 7.0 embeds in its scripting
// engine, written for github.com/yuin/gopher-lua (a pure-Go Lua 5.1):
//
//   - cjson: JSON encode/decode as Redis's lua_cjson (Lua CJSON 2.1.0 with
//     Redis's settings: numbers printed with 14 significant digits, sparse
//     arrays rejected, cjson.null, its decode error texts).
//   - cmsgpack: MessagePack pack/unpack/unpack_one/unpack_limit as Redis's
//     lua_cmsgpack (lua-cmsgpack 0.4.0).
//   - bit: LuaBitOp 1.0.2 (tobit, tohex, bnot, band, bor, bxor, lshift,
//     rshift, arshift, rol, ror, bswap) on 32-bit integers.
//   - struct: Roberto Ierusalimschy's struct library (pack, unpack, size) as
//     Redis's lua_struct.
//
// Open registers the four as globals, as Redis's scriptingInit does. The
// libraries keep no global state: each LState gets its own tables (and
// cjson's settings live in its table's closures, so, as in Redis, a script
// that changes them changes them for the later scripts of that state).
//
// What the scripting engine must know:
//   - Errors are raised as luaL_error does from C: the message is prefixed
//     with "chunk:line: " of the calling Lua function (none when the caller
//     is pcall or another Go function). Load scripts with the chunk name
//     "user_script" to get Redis's texts.
//   - The C libraries fail where C Lua's stack (LUAI_MAXCSTACK, 8000 slots)
//     would; the state's registry must hold that many values
//     (lua.Options{RegistryMaxSize: 16000} or more), else gopher-lua raises
//     "registry overflow" first (cmsgpack.unpack of thousands of values).
//   - cjson.null is a userdata (IsNull tells it), as Redis's NULL
//     lightuserdata: Redis's Lua-to-RESP conversion treats it as it treats
//     any userdata.
//
// The differential tests (diff_test.go) run the same snippets through
// Debian's redis-server (EVAL) and through a gopher-lua state and compare
// the results byte for byte; the fuzz targets feed arbitrary bytes to
// cjson.decode, cmsgpack.unpack* and struct.*.
package lualib
