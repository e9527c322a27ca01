package persister

import (
	"fmt"
	"strings"
	"time"
)

// infoPersistence writes INFO's Persistence section with Redis 7.0's
// fields, plus shoal_* fields on the last point-in-time capture.
//
// INFO writes its own static persistence fields before calling the
// installed section; so that clients see each field once, this cuts the
// builder back to the section header first. (Cleaner: info.go lets an
// installed persistence section replace the built-in one.)
func (p *persister) infoPersistence(b *strings.Builder) {
	const header = "# Persistence\r\n"
	if out := b.String(); strings.Contains(out, header) {
		keep := out[:strings.LastIndex(out, header)+len(header)]
		b.Reset()
		b.WriteString(keep)
	}
	s := p.s
	now := time.Now()
	lp, loading := s.Loading(now)
	status := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "err"
	}
	bgsaveSecs, processed, total := int64(-1), int64(0), int64(0)
	if p.bgsave != nil {
		bgsaveSecs = int64(now.Sub(p.bgsave.start).Seconds())
		total = p.bgsave.keysTotal
	}
	if p.capture != nil {
		processed = p.capture.c.Progress()
	}
	rewriteSecs := int64(-1)
	if p.rewrite != nil {
		rewriteSecs = int64(now.Sub(p.rewrite.start).Seconds())
	}
	lastBgsave := p.lastBgsaveSecs
	if p.rdbSaves == 0 && p.lastBgsaveTry.IsZero() {
		lastBgsave = -1
	}
	lastRewrite := p.lastRewriteSecs
	if p.aofRewrites == 0 && p.rewriteFailures == 0 {
		lastRewrite = -1
	}
	writeStatus := "ok"
	if p.aof != nil && p.aof.Err() != nil {
		writeStatus = "err"
	}
	fmt.Fprintf(b, "loading:%d\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\n"+
		"current_save_keys_processed:%d\r\ncurrent_save_keys_total:%d\r\n"+
		"rdb_changes_since_last_save:%d\r\nrdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%d\r\nrdb_last_bgsave_status:%s\r\n"+
		"rdb_last_bgsave_time_sec:%d\r\nrdb_current_bgsave_time_sec:%d\r\nrdb_saves:%d\r\nrdb_last_cow_size:0\r\n"+
		"rdb_last_load_keys_expired:%d\r\nrdb_last_load_keys_loaded:%d\r\n"+
		"aof_enabled:%d\r\naof_rewrite_in_progress:%d\r\naof_rewrite_scheduled:%d\r\naof_last_rewrite_time_sec:%d\r\n"+
		"aof_current_rewrite_time_sec:%d\r\naof_last_bgrewrite_status:%s\r\naof_rewrites:%d\r\naof_rewrites_consecutive_failures:%d\r\n"+
		"aof_last_write_status:%s\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
		boolInt(loading), processed, total,
		s.Dirty(), boolInt(p.bgsave != nil), p.lastSave, status(p.lastBgsaveOK),
		lastBgsave, bgsaveSecs, p.rdbSaves,
		p.lastLoadExpired, p.lastLoadKeys,
		boolInt(p.aof != nil), boolInt(p.rewrite != nil), boolInt(p.rewriteScheduled), lastRewrite,
		rewriteSecs, status(p.lastRewriteOK), p.aofRewrites, p.rewriteFailures,
		writeStatus)
	if p.aof != nil {
		st := p.aof.Stats()
		size := p.aofBaseSize + st.BytesWritten
		fmt.Fprintf(b, "aof_current_size:%d\r\naof_base_size:%d\r\naof_pending_rewrite:%d\r\naof_buffer_length:%d\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:%d\r\n",
			size, p.aofBaseSize, boolInt(p.rewriteScheduled), p.aof.Offset()-st.BytesWritten, st.DelayedFsyncs)
		fmt.Fprintf(b, "shoal_aof_fsync_policy:%s\r\nshoal_aof_fsyncs:%d\r\n", p.aof.Policy(), st.Fsyncs)
	}
	if loading {
		fmt.Fprintf(b, "loading_start_time:%d\r\nloading_total_bytes:%d\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:%d\r\nloading_loaded_perc:%.2f\r\nloading_eta_seconds:%d\r\n",
			lp.Start.Unix(), lp.TotalBytes, lp.LoadedBytes, lp.Perc, lp.ETASeconds)
	}
	cs := p.lastCaptureStats
	fmt.Fprintf(b, "shoal_last_capture_keys:%d\r\nshoal_last_capture_preserved:%d\r\nshoal_last_capture_detached:%d\r\nshoal_last_capture_lock_holds:%d\r\nshoal_last_capture_max_lock_hold_usec:%d\r\nshoal_last_capture_total_lock_hold_usec:%d\r\n",
		cs.Keys, cs.Preserved, cs.Detached, cs.Chunks, cs.MaxLockHold.Microseconds(), cs.TotalLockHold.Microseconds())
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
