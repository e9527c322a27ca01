package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/users"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// ensureOperatorSecret makes sure the operator's own password exists and
// loads it: the Secret <cluster>-operator, generated once, never rewritten.
// From here on the operator talks to the nodes as shoal-operator.
func (r *RedisClusterReconciler) ensureOperatorSecret(ctx context.Context, st *state) (ctrl.Result, error) {
	key := client.ObjectKey{Namespace: st.rc.Namespace, Name: builders.OperatorSecretName(st.rc)}
	password, err := ensureOperatorPassword(ctx, operatorSecretSource{r.Client, r.APIReader, r.Recorder, r.NewPassword}, st.rc, key,
		func(pw string) *corev1.Secret { return builders.OperatorSecret(st.desired, pw) })
	if err != nil {
		return ctrl.Result{}, err
	}
	st.auth = clusteradmin.Auth{Username: users.OperatorUser, Password: password}
	return ctrl.Result{}, nil
}

// operatorSecretSource is what ensureOperatorPassword reads and writes
// with: the cached client, the API server itself, the events of the owner
// and the source of passwords.
type operatorSecretSource struct {
	client.Client
	api         client.Reader
	recorder    record.EventRecorder
	newPassword func() (string, error)
}

// ensureOperatorPassword reads the operator's password from the Secret
// key, made by build from a new password when it does not exist yet
// (generated once, never rewritten; an event on owner says so).
func ensureOperatorPassword(ctx context.Context, src operatorSecretSource, owner runtime.Object, key client.ObjectKey, build func(string) *corev1.Secret) (string, error) {
	secret := &corev1.Secret{}
	err := src.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		password, perr := src.newPassword()
		if perr != nil {
			return "", fmt.Errorf("generating a password: %w", perr)
		}
		secret = build(password)
		err = src.Create(ctx, secret)
		switch {
		case err == nil:
			src.recorder.Eventf(owner, corev1.EventTypeNormal, eventCreated, "Created Secret %s with the operator's generated password", key.Name)
		case apierrors.IsAlreadyExists(err):
			// Created by an earlier reconcile the cache has not seen yet.
			err = src.api.Get(ctx, key, secret)
		}
	}
	if err != nil {
		return "", err
	}
	password := secret.Data[builders.OperatorSecretPasswordKey]
	if len(password) == 0 {
		return "", fmt.Errorf("secret %s has no key %q", key.Name, builders.OperatorSecretPasswordKey)
	}
	return string(password), nil
}

// ensureUsers makes the ACL users of every node with an address equal to
// spec.users plus the operator's own (shoal-operator, shoal-replication),
// and deletes the users the operator made that the spec no longer lists.
// It runs on every reconcile, before anything else talks to the nodes, so
// that a node that joins or restarts (users set by ACL SETUSER live in
// memory only) gets them as soon as its pod has an IP. A node that does not
// answer yet is tried again soon; it does not stop the reconcile.
func (r *RedisClusterReconciler) ensureUsers(ctx context.Context, st *state) (ctrl.Result, error) {
	set, held, err := r.readUsers(ctx, st)
	if err != nil {
		return ctrl.Result{}, err
	}
	plan := users.PlanUsers(set, held, st.rc.Status.ManagedUsers)
	system := users.SystemUsers(st.auth.Password, replicatesSource(st) || replaysArchive(st))

	addrs := map[string]string{}
	for _, m := range st.members {
		if m.IP != "" {
			addrs[m.Pod] = m.Addr()
		}
	}
	failed := applyToNodes(st.log, addrs, func(addr string) error { return r.applyUsers(ctx, st, addr, system, plan) })
	// A node without an address has no users to delete: when it starts,
	// it has only the users of its command line, and gets the spec's here.
	st.rc.Status.ManagedUsers = plan.Managed(len(failed) == 0)
	if len(failed) > 0 {
		st.usersPending = true
		st.log.Info("ACL users not applied on some nodes yet", "pods", failed)
	}
	return ctrl.Result{}, nil
}

// applyToNodes runs apply on every node of addrs (pod: address) at once
// and returns the pods where it failed, sorted (each logged at V(1)).
func applyToNodes(log logr.Logger, addrs map[string]string, apply func(addr string) error) []string {
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	for pod, addr := range addrs {
		wg.Go(func() {
			if err := apply(addr); err != nil {
				log.V(1).Info("users not applied", "pod", pod, "error", err.Error())
				mu.Lock()
				failed = append(failed, pod)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(failed)
	return failed
}

// applyUsers sends one node the operator's users and the plan, as
// shoal-operator; a node that does not know shoal-operator yet (started
// with the default user on, before the operator made its user there) is
// sent them as the default user.
func (r *RedisClusterReconciler) applyUsers(ctx context.Context, st *state, addr string, system []clusteradmin.ACLUser, plan users.Plan) error {
	set := append(slices.Clone(system), plan.Set...)
	err := r.applyUsersAs(ctx, st, addr, st.auth, set, plan.Delete)
	if err == nil || !isAuthError(err) {
		return err
	}
	if ferr := r.applyUsersAs(ctx, st, addr, clusteradmin.Auth{Password: st.password}, set, plan.Delete); ferr != nil {
		return errors.Join(err, ferr)
	}
	st.log.Info("made the operator's ACL users on a node as the default user", "addr", addr)
	return nil
}

// It dials as every other step does (r.dial: over TLS with spec.tls, where
// the nodes have no plain port).
func (r *RedisClusterReconciler) applyUsersAs(ctx context.Context, st *state, addr string, auth clusteradmin.Auth, set []clusteradmin.ACLUser, del []string) error {
	c := r.dial(st)(addr, auth)
	defer c.Close() //nolint:errcheck // the replies are what count
	aa, ok := c.(clusteradmin.ACLAdmin)
	if !ok {
		return errors.New("the node client cannot set ACL users")
	}
	cctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	defer cancel()
	return aa.ApplyUsers(cctx, set, del)
}

// readUsers reads the passwords of every spec.users entry (readUserSecrets);
// a user whose Secret or key is missing is held and the cluster reports
// it as Degraded.
func (r *RedisClusterReconciler) readUsers(ctx context.Context, st *state) (set []clusteradmin.ACLUser, held []string, err error) {
	set, held, missing, err := readUserSecrets(ctx, r.APIReader, st.rc.Namespace, st.desired.Spec.Users)
	if err != nil || missing == "" {
		return set, held, err
	}
	st.degrade(v1alpha1.ReasonSecretNotFound, missing)
	r.Recorder.Event(st.rc, corev1.EventTypeWarning, string(v1alpha1.ReasonSecretNotFound), missing)
	return set, held, nil
}

// readUserSecrets reads the passwords of every spec.users entry from its
// Secrets in ns (the user's, not in the cache: read through an API
// reader) and makes their ACL SETUSER. A user whose Secret or key is
// missing or empty is held: not applied, not deleted; missing says which
// ("" when none is).
func readUserSecrets(ctx context.Context, reader client.Reader, ns string, specUsers []v1alpha1.UserSpec) (set []clusteradmin.ACLUser, held []string, missing string, err error) {
	secrets := map[string]*corev1.Secret{}
	var absent []string
	for _, u := range specUsers {
		var passwords []string
		for _, ref := range u.Passwords {
			s, ok := secrets[ref.Name]
			if !ok {
				s = &corev1.Secret{}
				err := reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, s)
				switch {
				case apierrors.IsNotFound(err):
					s = nil
				case err != nil:
					return nil, nil, "", fmt.Errorf("reading Secret %s of user %s: %w", ref.Name, u.Name, err)
				}
				secrets[ref.Name] = s
			}
			key := ref.Key
			if key == "" {
				key = v1alpha1.DefaultAuthSecretKey
			}
			if s == nil || len(s.Data[key]) == 0 {
				absent = append(absent, fmt.Sprintf("%s (Secret %s, key %q)", u.Name, ref.Name, key))
				passwords = nil
				break
			}
			passwords = append(passwords, string(s.Data[key]))
		}
		if passwords == nil {
			held = append(held, u.Name)
			continue
		}
		set = append(set, users.SetUser(u, passwords))
	}
	if len(absent) > 0 {
		missing = "passwords of users not found, users left as they are: " + strings.Join(absent, ", ")
	}
	return set, held, missing, nil
}

// isAuthError reports whether a node refused who the client is (the user
// does not exist there, or lacks a right), not that it could not be reached.
func isAuthError(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	return strings.HasPrefix(msg, "WRONGPASS") || strings.HasPrefix(msg, "NOAUTH") || strings.HasPrefix(msg, "NOPERM")
}
