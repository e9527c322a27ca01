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
// libraries keep no global state: each LState gets its own tables.
// Redis's C sources are the specification; the package's differential test
// runs the same snippets through Debian's redis-server and through a
// gopher-lua state and compares the results.
package lualib
