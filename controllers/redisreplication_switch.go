package controllers

import (
	"bytes"
	"context"
	"crypto/tls"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/redis/go-redis/v9"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// switchMasterChannel is the Sentinel event announcing a new master
// ("<name> <old-ip> <old-port> <new-ip> <new-port>").
const switchMasterChannel = "+switch-master"

// switchWatcher keeps, for every RedisReplication, a subscription to
// +switch-master on each of its sentinels, and wakes the reconciler of
// that RedisReplication when one is published: the master Service follows
// a failover within a reconcile, not at the next poll. Polling
// (replicationResync) remains the fallback. It runs under the manager
// (Start) and holds no state a restart would need.
type switchWatcher struct {
	log    logr.Logger
	events chan event.TypedGenericEvent[*v1alpha1.RedisReplication]

	mu   sync.Mutex
	ctx  context.Context //nolint:containedctx // the manager's, set by Start
	subs map[types.NamespacedName]*switchSub
}

type switchSub struct {
	addrs  []string
	tls    *tls.Config
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func newSwitchWatcher(log logr.Logger) *switchWatcher {
	return &switchWatcher{log: log, events: make(chan event.TypedGenericEvent[*v1alpha1.RedisReplication], 64),
		subs: map[types.NamespacedName]*switchSub{}}
}

// Start runs until ctx ends, then closes every subscription.
func (w *switchWatcher) Start(ctx context.Context) error {
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
	<-ctx.Done()
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, s := range w.subs {
		s.cancel()
		s.done.Wait()
		delete(w.subs, key)
	}
	return nil
}

// ensure subscribes to addrs for key (over TLS with cfg), replacing a
// subscription to other addresses or with another certificate.
func (w *switchWatcher) ensure(key types.NamespacedName, addrs []string, cfg *tls.Config) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx == nil || w.ctx.Err() != nil {
		return
	}
	if s, ok := w.subs[key]; ok {
		if slices.Equal(s.addrs, addrs) && sameCertificate(s.tls, cfg) {
			return
		}
		s.cancel()
		s.done.Wait()
		delete(w.subs, key)
	}
	if len(addrs) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(w.ctx)
	s := &switchSub{addrs: slices.Clone(addrs), tls: cfg, cancel: cancel}
	for _, addr := range addrs {
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			w.subscribe(ctx, key, addr, cfg)
		}()
	}
	w.subs[key] = s
}

// stop ends the subscription of key.
func (w *switchWatcher) stop(key types.NamespacedName) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := w.subs[key]; ok {
		s.cancel()
		s.done.Wait()
		delete(w.subs, key)
	}
}

// subscribe listens on one sentinel until ctx ends; go-redis reconnects a
// broken subscription by itself.
func (w *switchWatcher) subscribe(ctx context.Context, key types.NamespacedName, addr string, cfg *tls.Config) {
	c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: tlsConfigOf(cfg), DialTimeout: nodeTimeout, MaxRetries: -1, DisableIdentity: true})
	defer c.Close() //nolint:errcheck // closing a subscription
	ps := c.Subscribe(ctx, switchMasterChannel)
	defer ps.Close() //nolint:errcheck // closing a subscription
	ch := ps.Channel(redis.WithChannelHealthCheckInterval(10 * time.Second))
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			w.log.Info("sentinel reports a new master", "replication", key, "sentinel", addr, "event", msg.Payload)
			ev := event.TypedGenericEvent[*v1alpha1.RedisReplication]{Object: &v1alpha1.RedisReplication{
				ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}}
			select {
			case w.events <- ev:
			case <-ctx.Done():
				return
			}
		}
	}
}

// sameCertificate reports whether two client configurations present the
// same certificate (both nil: plain TCP): a renewed certificate makes the
// subscriptions dial again with it.
func sameCertificate(a, b *tls.Config) bool {
	if a == nil || b == nil {
		return a == b
	}
	if len(a.Certificates) == 0 || len(b.Certificates) == 0 {
		return len(a.Certificates) == len(b.Certificates)
	}
	return slices.EqualFunc(a.Certificates[0].Certificate, b.Certificates[0].Certificate, bytes.Equal)
}
