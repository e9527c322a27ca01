package server

import (
	"errors"
	"sync"
	"testing"
)

// fakePersistence answers SAVE, BGSAVE, LASTSAVE and BGREWRITEAOF.
type fakePersistence struct{}

func (fakePersistence) Save() error                   { return nil }
func (fakePersistence) BGSave() error                 { return nil }
func (fakePersistence) LastSave() int64               { return 42 }
func (fakePersistence) LastBGSaveFailed() bool        { return false }
func (fakePersistence) BGRewriteAOF() (string, error) { return "rewrite started", nil }

// The hooks of a persistence subsystem: Load runs from StartPersistence
// and only then is its Persistence installed; Shutdown may refuse
// SHUTDOWN; ReplyWait gets the mark ReplyMark gave at the end of the
// batch.
func TestHooksPersistence(t *testing.T) {
	var mu sync.Mutex
	var loads int
	var shutdowns []bool
	var waited []int64
	s, err := newPlugged(t, func(*Server) (Hooks, error) {
		return Hooks{
			Name: "persistence",
			Load: func(l *Loader) error {
				l.SetTotalBytes(10)
				l.Read(10)
				loads++
				return nil
			},
			Persistence: fakePersistence{},
			Shutdown: func(save bool) error {
				shutdowns = append(shutdowns, save)
				return errors.New("refused")
			},
			ReplyMark: func() int64 { return 7 },
			ReplyWait: func(mark int64) {
				mu.Lock()
				waited = append(waited, mark)
				mu.Unlock()
			},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := pipeClient(t, s)
	if got := c.do("LASTSAVE"); got == ":42\r\n" {
		t.Fatalf("LASTSAVE before the load served by the plugin: %q", got)
	}
	if got := c.do("BGREWRITEAOF"); got != "-ERR Can't execute an AOF background rewriting. Please check the server logs for more information.\r\n" {
		t.Fatalf("BGREWRITEAOF before the load: %q", got)
	}
	if err := s.StartPersistence(); err != nil {
		t.Fatal(err)
	}
	if loads != 1 {
		t.Fatalf("Load ran %d times", loads)
	}
	if got := c.do("LASTSAVE"); got != ":42\r\n" {
		t.Fatalf("LASTSAVE after the load: %q", got)
	}
	if got := c.do("BGREWRITEAOF"); got != "+rewrite started\r\n" {
		t.Fatalf("BGREWRITEAOF after the load: %q", got)
	}
	if got := c.do("SHUTDOWN", "SAVE"); got != "-ERR Errors trying to SHUTDOWN. Check logs.\r\n" {
		t.Fatalf("SHUTDOWN refused by the hook: %q", got)
	}
	if len(shutdowns) != 1 || !shutdowns[0] {
		t.Fatalf("Shutdown hook calls: %v", shutdowns)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waited) == 0 || waited[len(waited)-1] != 7 {
		t.Fatalf("ReplyWait got %v", waited)
	}
}

// Two plugins may not both hold replies or serve SAVE.
func TestHooksOnePersistence(t *testing.T) {
	p := func(*Server) (Hooks, error) { return Hooks{Name: "p", Persistence: fakePersistence{}}, nil }
	if _, err := newPlugged(t, p, p); err == nil {
		t.Fatal("two plugins set Persistence")
	}
}
