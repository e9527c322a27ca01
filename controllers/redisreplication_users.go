package controllers

import (
	"context"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/users"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// ensureReplicationUsers makes the ACL users of every data node that
// answers equal to spec.users, as a RedisCluster's (the same Secrets
// reading and plan: users.PlanUsers against status.managedUsers), and
// deletes the users the operator made that the spec no longer lists. It
// runs on every reconcile, so a node that restarts (ACL SETUSER lives in
// memory) or joins gets them back as soon as it answers. The operator's
// own users (default user off) are on the nodes' command line: there is
// nothing of theirs to keep here.
func (r *RedisReplicationReconciler) ensureReplicationUsers(ctx context.Context, st *replState) error {
	if len(st.desired.Spec.Users) == 0 && len(st.rr.Status.ManagedUsers) == 0 {
		return nil
	}
	set, held, missing, err := readUserSecrets(ctx, r.APIReader, st.rr.Namespace, st.desired.Spec.Users)
	if err != nil {
		return err
	}
	if missing != "" {
		st.usersMissing = missing
		r.Recorder.Event(st.rr, corev1.EventTypeWarning, string(v1alpha1.ReasonSecretNotFound), missing)
	}
	plan := users.PlanUsers(set, held, st.rr.Status.ManagedUsers)
	addrs := map[string]string{}
	for _, n := range st.in.Nodes {
		if p := st.nodes[n.Pod]; p != nil && p.Status.PodIP != "" {
			addrs[n.Pod] = net.JoinHostPort(p.Status.PodIP, strconv.Itoa(builders.RedisPort))
		}
	}
	failed := applyToNodes(st.log, addrs, func(addr string) error {
		c := clusteradmin.New(addr, clusteradmin.Options{Username: st.username, Password: st.password, Timeout: r.timeout(), TLS: tlsConfigOf(st.tls)})
		defer c.Close() //nolint:errcheck // the replies are what count
		return c.ApplyUsers(ctx, plan.Set, plan.Delete)
	})
	st.rr.Status.ManagedUsers = plan.Managed(len(failed) == 0)
	if len(failed) > 0 {
		st.usersPending = true
		st.log.Info("ACL users not applied on some data nodes yet", "pods", failed)
	}
	return nil
}
