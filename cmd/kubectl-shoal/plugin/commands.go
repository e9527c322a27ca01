package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func newStatusCommand(o *options) *cobra.Command {
	nodes := true
	cmd := &cobra.Command{
		Use:               "status NAME",
		Short:             "Shards, roles, slots, replication lag, keys, memory, conditions, migration and rollout of a RedisCluster",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeClusters,
		RunE: o.runOnCluster(func(cmd *cobra.Command, s *session, rc *v1alpha1.RedisCluster, pods []corev1.Pod, _ []string) error {
			var stats map[string]nodeStats
			if nodes {
				stats = s.nodeStats(cmd.Context(), rc, pods)
			}
			return statusTable(cmd.OutOrStdout(), rc, pods, stats, time.Now())
		}),
	}
	cmd.Flags().BoolVar(&nodes, "nodes", true, "ask each running node (through a port-forward) for its keys and memory")
	return cmd
}

// nodeStats asks every running pod for INFO memory, INFO replication and
// DBSIZE; pods that do not answer are left out.
func (s *session) nodeStats(ctx context.Context, rc *v1alpha1.RedisCluster, pods []corev1.Pod) map[string]nodeStats {
	pw, err := s.password(ctx, rc)
	if err != nil {
		fmt.Fprintln(s.streams.ErrOut, "warning:", err)
		return nil
	}
	views, used := s.forEachNode(ctx, pods, pw)
	out := map[string]nodeStats{}
	for pod, v := range views {
		if v == nil {
			continue
		}
		out[pod] = nodeStats{UsedMemory: used[pod][0], MaxMemory: used[pod][1], Role: v.Replication.Role,
			Offset: v.Replication.Offset, Keys: v.Keys}
	}
	return out
}

// forEachNode reads the cluster view and memory of every running pod, in
// parallel, over port-forwards. A pod not running or not answering maps to
// nil (and a warning on stderr).
func (s *session) forEachNode(ctx context.Context, pods []corev1.Pod, password string) (map[string]*clusteradmin.NodeView, map[string][2]int64) {
	var mu sync.Mutex
	views := map[string]*clusteradmin.NodeView{}
	mem := map[string][2]int64{}
	var wg sync.WaitGroup
	for _, p := range pods {
		views[p.Name] = nil
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
			continue
		}
		wg.Add(1)
		go func(pod string) {
			defer wg.Done()
			v, used, max, err := s.readNode(ctx, pod, password)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fmt.Fprintf(s.streams.ErrOut, "warning: %s: %v\n", pod, err)
				return
			}
			views[pod], mem[pod] = v, [2]int64{used, max}
		}(p.Name)
	}
	wg.Wait()
	return views, mem
}

func (s *session) readNode(ctx context.Context, pod, password string) (*clusteradmin.NodeView, int64, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
	defer cancel()
	addr, stop, err := portForward(ctx, s.rest, s.namespace, pod, builders.RedisPort)
	if err != nil {
		return nil, 0, 0, err
	}
	defer stop()
	c := clusteradmin.New(addr, clusteradmin.Options{Password: password, Timeout: s.timeout})
	defer c.Close()
	v, err := c.ClusterView(ctx)
	if err != nil {
		return nil, 0, 0, err
	}
	used, max, err := c.Memory(ctx)
	return v, used, max, err
}

func newSwitchoverCommand(o *options) *cobra.Command {
	shard := -1
	waitFor := time.Duration(0)
	cmd := &cobra.Command{
		Use:   "switchover NAME [POD]",
		Short: "Make a replica the master of its shard (coordinated CLUSTER FAILOVER by the operator)",
		Long: "Sets the annotation " + v1alpha1.SwitchoverAnnotation + "=POD on the RedisCluster; the operator\n" +
			"sends a coordinated CLUSTER FAILOVER to that replica once it is in sync and reports the\n" +
			"outcome in status.lastSwitchover. Without POD, --shard picks the shard's connected replica\n" +
			"with the least lag.",
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: o.completeClusters,
		RunE: o.runOnCluster(func(cmd *cobra.Command, s *session, rc *v1alpha1.RedisCluster, _ []corev1.Pod, args []string) error {
			ctx := cmd.Context()
			target := ""
			if len(args) == 2 {
				target = args[1]
			} else if t, err := pickSwitchoverTarget(rc, shard); err != nil {
				return err
			} else {
				target = t
			}
			if err := s.annotate(ctx, rc, v1alpha1.SwitchoverAnnotation, &target); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "redisclusters/%s annotated %s=%s\n", rc.Name, v1alpha1.SwitchoverAnnotation, target)
			if waitFor <= 0 {
				return nil
			}
			return s.waitSwitchover(ctx, rc.Name, target, waitFor)
		}),
	}
	cmd.Flags().IntVar(&shard, "shard", -1, "shard index whose best replica to promote (when POD is not given)")
	cmd.Flags().DurationVar(&waitFor, "wait", 0, "wait up to this long for status.lastSwitchover to say Succeeded or Failed")
	return cmd
}

// pickSwitchoverTarget chooses the replica of shard to promote: connected to
// its master, least lag, then by name.
func pickSwitchoverTarget(rc *v1alpha1.RedisCluster, shard int) (string, error) {
	if shard < 0 {
		return "", errors.New("name the replica pod, or a shard with --shard")
	}
	name := builders.ShardName(rc, shard)
	for _, sh := range rc.Status.Shards {
		if sh.Name != name {
			continue
		}
		best := ""
		var bestLag int64
		for _, r := range sh.Replicas {
			if r.LinkState != clusteradmin.LinkConnected {
				continue
			}
			if best == "" || r.LagBytes < bestLag || (r.LagBytes == bestLag && r.Pod < best) {
				best, bestLag = r.Pod, r.LagBytes
			}
		}
		if best == "" {
			return "", fmt.Errorf("shard %s has no connected replica", name)
		}
		return best, nil
	}
	return "", fmt.Errorf("status.shards has no shard %s", name)
}

// pollObject reads the object key (a new one each time) every second,
// within d, until done says it is finished or fails; it returns the last
// one read.
func pollObject[T any, PT interface {
	*T
	client.Object
}](ctx context.Context, c client.Client, key client.ObjectKey, d time.Duration, done func(PT) (bool, error)) (PT, error) {
	var last PT
	err := wait.PollUntilContextTimeout(ctx, time.Second, d, true, func(ctx context.Context) (bool, error) {
		last = new(T)
		if err := c.Get(ctx, key, last); err != nil {
			return false, err
		}
		return done(last)
	})
	return last, err
}

func (s *session) waitSwitchover(ctx context.Context, name, target string, timeout time.Duration) error {
	var last *v1alpha1.SwitchoverStatus
	_, err := pollObject(ctx, s.c, client.ObjectKey{Namespace: s.namespace, Name: name}, timeout, func(rc *v1alpha1.RedisCluster) (bool, error) {
		last = rc.Status.LastSwitchover
		return last != nil && last.Pod == target && (last.Phase == "Succeeded" || last.Phase == "Failed"), nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the switchover to %s: %w", target, err)
	}
	fmt.Fprintf(s.streams.Out, "switchover to %s %s: %s\n", target, last.Phase, last.Message)
	if last.Phase == "Failed" {
		return errors.New("switchover failed")
	}
	return nil
}

// annotate sets (value non-nil) or removes an annotation with a merge patch.
func (s *session) annotate(ctx context.Context, rc *v1alpha1.RedisCluster, key string, value *string) error {
	patch := client.MergeFrom(rc.DeepCopy())
	if value == nil {
		delete(rc.Annotations, key)
	} else {
		if rc.Annotations == nil {
			rc.Annotations = map[string]string{}
		}
		rc.Annotations[key] = *value
	}
	return s.c.Patch(ctx, rc, patch)
}

func newPauseCommand(o *options, pause bool) *cobra.Command {
	use, short := "resume NAME", "Let the operator reconcile the RedisCluster again (removes "+v1alpha1.PausedAnnotation+")"
	if pause {
		use, short = "pause NAME", "Stop the operator changing the RedisCluster (sets "+v1alpha1.PausedAnnotation+"=true)"
	}
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeClusters,
		RunE: o.runOnCluster(func(cmd *cobra.Command, s *session, rc *v1alpha1.RedisCluster, _ []corev1.Pod, _ []string) error {
			var v *string
			word := "resumed"
			if pause {
				t := "true"
				v, word = &t, "paused"
			}
			if err := s.annotate(cmd.Context(), rc, v1alpha1.PausedAnnotation, v); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "redisclusters/%s %s\n", rc.Name, word)
			return nil
		}),
	}
}

func newCheckCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "check NAME",
		Short: "What redis-cli --cluster check says, plus cluster_state, failure flags and replica links",
		Long: "Reads CLUSTER NODES, CLUSTER INFO, DBSIZE and INFO replication of every node pod through a\n" +
			"port-forward (the node image has no redis-cli to exec) and checks them as\n" +
			"`redis-cli --cluster check` does: all nodes agree about the slots configuration, no open\n" +
			"slots, all 16384 slots covered. Exits non-zero on an [ERR].",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeClusters,
		RunE: o.runOnCluster(func(cmd *cobra.Command, s *session, rc *v1alpha1.RedisCluster, pods []corev1.Pod, _ []string) error {
			ctx := cmd.Context()
			if len(pods) == 0 {
				return fmt.Errorf("redisclusters/%s has no pods", rc.Name)
			}
			pw, err := s.password(ctx, rc)
			if err != nil {
				return err
			}
			views, _ := s.forEachNode(ctx, pods, pw)
			via := firstAnswering(rc, views)
			rep := checkCluster(views, via)
			rep.write(cmd.OutOrStdout(), via)
			if rep.Failed() {
				return errors.New("the cluster check found errors")
			}
			return nil
		}),
	}
}

// firstAnswering is the pod whose view the check lists: the first master of
// status.shards that answered, else any pod that answered.
func firstAnswering(rc *v1alpha1.RedisCluster, views map[string]*clusteradmin.NodeView) string {
	for _, sh := range rc.Status.Shards {
		if sh.Master != nil && views[sh.Master.Pod] != nil {
			return sh.Master.Pod
		}
	}
	best := ""
	for p, v := range views {
		if v != nil && (best == "" || p < best) {
			best = p
		}
	}
	return best
}

func newCLICommand(o *options) *cobra.Command {
	pod, redisCLI := "", "redis-cli"
	cmd := &cobra.Command{
		Use:   "cli NAME [-- REDIS-CLI-ARGS...]",
		Short: "redis-cli into a node of the RedisCluster, with its password",
		Long: "Runs the local redis-cli against one node pod (default: the master of the first shard)\n" +
			"through a port-forward, with the cluster's password in REDISCLI_AUTH (never on the command\n" +
			"line). Without -c: a MOVED redirection names a pod IP that a port-forward does not reach;\n" +
			"pick the node with --pod (CLUSTER KEYSLOT / CLUSTER NODES say which one serves a key).",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: o.completeClusters,
		RunE: o.runOnCluster(func(cmd *cobra.Command, s *session, rc *v1alpha1.RedisCluster, pods []corev1.Pod, args []string) error {
			ctx := cmd.Context()
			target := pod
			if target == "" {
				target = firstMaster(rc, pods)
			}
			if target == "" {
				return fmt.Errorf("redisclusters/%s has no running pod", rc.Name)
			}
			pw, err := s.password(ctx, rc)
			if err != nil {
				return err
			}
			path, err := exec.LookPath(redisCLI)
			if err != nil {
				return fmt.Errorf("redis-cli is not installed here (Debian: apt-get install redis-tools): %w", err)
			}
			addr, stop, err := portForward(ctx, s.rest, s.namespace, target, builders.RedisPort)
			if err != nil {
				return err
			}
			defer stop()
			host, port := splitAddr(addr)
			c := exec.CommandContext(ctx, path, append([]string{"-h", host, "-p", port}, args[1:]...)...)
			c.Env = append(os.Environ(), "REDISCLI_AUTH="+pw)
			c.Stdin, c.Stdout, c.Stderr = s.streams.In, s.streams.Out, s.streams.ErrOut
			return c.Run()
		}),
	}
	cmd.Flags().StringVar(&pod, "pod", "", "node pod to connect to")
	cmd.Flags().StringVar(&redisCLI, "redis-cli", "redis-cli", "the redis-cli executable")
	return cmd
}

// firstMaster is the master pod of the first shard of status, else the
// first running pod.
func firstMaster(rc *v1alpha1.RedisCluster, pods []corev1.Pod) string {
	for _, sh := range rc.Status.Shards {
		if sh.Master != nil {
			return sh.Master.Pod
		}
	}
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning {
			return p.Name
		}
	}
	return ""
}
