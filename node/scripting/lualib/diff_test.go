package lualib

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	lua "github.com/yuin/gopher-lua"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// diffPrelude is Lua both sides run before a case: dump renders any value
// as a string the same way in C Lua and gopher-lua (numbers with %.17g,
// table keys sorted), so that results compare as bytes.
const diffPrelude = `
local dump
dump = function(v)
  local t = type(v)
  if t == 'number' then
    if v ~= v then return 'nan' end
    if v == 1/0 then return 'inf' end
    if v == -1/0 then return '-inf' end
    return string.format('%.17g', v)
  elseif t == 'string' then return 's:' .. v
  elseif t == 'table' then
    local keys = {}
    for k, x in pairs(v) do keys[#keys+1] = {dump(k), dump(x)} end
    table.sort(keys, function(a, b) return a[1] < b[1] end)
    local out = {}
    for i = 1, #keys do out[i] = keys[i][1] .. '=' .. keys[i][2] end
    return '{' .. table.concat(out, ',') .. '}'
  elseif t == 'userdata' then
    if v == cjson.null then return 'cjson.null' end
    return 'userdata'
  end
  return tostring(v)
end
local function run(f)
  local r = {pcall(f)}
  local n = table.maxn(r)
  if not r[1] then return 'ERR:' .. tostring(r[2]) end
  local out = {}
  for i = 2, n do out[#out+1] = dump(r[i]) end
  return table.concat(out, ' | ')
end
return run(function()
`

// diffScript is a case's body (statements ending in a return) wrapped
// into the prelude.
func diffScript(body string) string { return diffPrelude + body + "\nend)" }

// runGopher runs script on a fresh gopher-lua state with the libraries.
func runGopher(script string) (string, error) {
	L := newState()
	defer L.Close()
	fn, err := L.Load(strings.NewReader(script), "user_script")
	if err != nil {
		return "", err
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		return "", err
	}
	return L.Get(-1).String(), nil
}

// newState is a gopher-lua state with the libraries and a registry that
// holds as many values as C Lua's stack (LUAI_MAXCSTACK), as the scripting
// engine's states must.
func newState() *lua.LState {
	L := lua.NewState(lua.Options{RegistrySize: 1024, RegistryMaxSize: 2 * luaCStackMax})
	Open(L)
	return L
}

// startRedis starts Debian's redis-server for the test.
func startRedis(t *testing.T) *redis.Client {
	dir := t.TempDir()
	p := nodetest.Start(t, nodetest.Options{
		Binary: nodetest.RedisServer(t), Dir: dir, Log: filepath.Join(dir, "redis.log"),
		Args: []string{"--save", "", "--appendonly", "no", "--daemonize", "no"},
	})
	c := redis.NewClient(&redis.Options{Addr: p.Addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// diffCases runs each case body through redis-server's EVAL and through
// gopher-lua and compares the dumped results.
func diffCases(t *testing.T, cases []string) {
	t.Helper()
	c := startRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, body := range cases {
		script := diffScript(body)
		want, err := c.Eval(ctx, script, nil).Text()
		if err != nil {
			t.Errorf("redis: %s: %v", body, err)
			continue
		}
		got, err := runGopher(script)
		if err != nil {
			t.Errorf("gopher-lua: %s: %v", body, err)
			continue
		}
		if got != want {
			t.Errorf("%s\n got: %q\nwant: %q", body, trunc(got), trunc(want))
		}
	}
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }
