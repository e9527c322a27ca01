package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// Timeouts of the kubectl plugin specs.
const (
	pluginBuildTimeout      = 5 * time.Minute
	pluginCommandTimeout    = time.Minute
	pluginSwitchoverTimeout = 3 * time.Minute
)

// describePlugin adds the specs of `kubectl shoal` (cmd/kubectl-shoal),
// built from this checkout and run as a user runs it (KUBECONFIG, -n)
// against a RedisCluster of the operator the enclosing container installed.
func describePlugin(env func() (client.Client, suiteConfig, string)) {
	Describe("the kubectl shoal plugin", Label("plugin"), Ordered, func() {
		var (
			c   client.Client
			ns  string
			bin string
			rc  *v1alpha1.RedisCluster
		)
		shoal := func(ctx context.Context, args ...string) (string, string, error) {
			var out, errOut bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, append([]string{"-n", ns}, args...)...)
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			fmt.Fprintf(GinkgoWriter, "$ kubectl shoal %s\n%s%s", strings.Join(args, " "), out.String(), errOut.String())
			return out.String(), errOut.String(), err
		}

		BeforeAll(func(ctx SpecContext) {
			c, _, _ = env()
			ns = createNamespace(ctx, c, "shoal-e2e-plugin-")
			bin = filepath.Join(GinkgoT().TempDir(), "kubectl-shoal")
		}, NodeTimeout(time.Minute))

		// The slow setup is a spec of its own: an Ordered container's
		// BeforeAll runs inside the first spec's SpecTimeout.
		It("builds kubectl-shoal and forms a 3x1 RedisCluster on ephemeral storage", func(ctx SpecContext) {
			By("building kubectl-shoal")
			out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/kubectl-shoal").CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "go build:\n%s", out)
			By("forming the RedisCluster")
			rc = newRedisCluster(ns, "plug", 3, 1, true)
			Expect(c.Create(ctx, rc)).To(Succeed())
			waitReady(ctx, c, rc, formTimeout)
		}, SpecTimeout(pluginBuildTimeout+formTimeout))

		It("shows every pod with its role, slots and the node's own figures", func(ctx SpecContext) {
			out, errOut, err := shoal(ctx, "status", "plug")
			Expect(err).NotTo(HaveOccurred())
			Expect(errOut).To(BeEmpty(), "every node answers through its port-forward")
			Expect(out).To(ContainSubstring("cluster_state ok, slots 16384/16384, masters 3/3 ready, replicas 3/3 ready"))
			for _, p := range nodePods(ctx, c, rc) {
				line := lineWith(out, " "+p.Name+" ")
				Expect(line).NotTo(BeEmpty(), "no row for %s", p.Name)
				Expect(line).To(ContainSubstring("Running 1/1"))
				Expect(line).To(MatchRegexp(`[0-9.]+[KMG]?i?B`), "memory of %s", p.Name)
			}
		}, SpecTimeout(pluginCommandTimeout))

		It("checks the cluster as redis-cli --cluster check does", func(ctx SpecContext) {
			// Polled: just after Ready, a node's gossip may still show a
			// new replica as a master without slots.
			Eventually(func(g Gomega, ctx context.Context) {
				out, _, err := shoal(ctx, "check", "plug")
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(out).To(ContainSubstring("[OK] All nodes agree about slots configuration."))
				g.Expect(out).To(ContainSubstring("[OK] All 16384 slots covered."))
				g.Expect(strings.Count(out, "\nM: ")).To(Equal(3))
				g.Expect(strings.Count(out, "\nS: ")).To(Equal(3))
			}).WithContext(ctx).WithTimeout(pluginCommandTimeout / 2).WithPolling(time.Second).Should(Succeed())
		}, SpecTimeout(pluginCommandTimeout))

		It("runs redis-cli on a node with the cluster's password", func(ctx SpecContext) {
			out, _, err := shoal(ctx, "cli", "plug", "--", "CLUSTER", "INFO")
			Expect(err).NotTo(HaveOccurred())
			Expect(out).To(ContainSubstring("cluster_state:ok"))
		}, SpecTimeout(pluginCommandTimeout))

		It("pauses and resumes the operator's work on the cluster", func(ctx SpecContext) {
			_, _, err := shoal(ctx, "pause", "plug")
			Expect(err).NotTo(HaveOccurred())
			Eventually(func(g Gomega, ctx context.Context) {
				g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
				g.Expect(rc.Status.Conditions).To(ContainElement(And(
					HaveField("Type", string(v1alpha1.ConditionProgressing)), HaveField("Reason", string(v1alpha1.ReasonPaused)))))
			}).WithContext(ctx).WithTimeout(pluginCommandTimeout / 2).WithPolling(clusterPoll).Should(Succeed())
			_, _, err = shoal(ctx, "resume", "plug")
			Expect(err).NotTo(HaveOccurred())
			waitReady(ctx, c, rc, pluginCommandTimeout/2)
		}, SpecTimeout(pluginCommandTimeout))

		It("switches shard 0 over to its replica and waits for the outcome", func(ctx SpecContext) {
			Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
			before := rc.Status.Shards[0].Master.Pod
			out, _, err := shoal(ctx, "switchover", "plug", "--shard", "0", "--wait", pluginSwitchoverTimeout.String())
			Expect(err).NotTo(HaveOccurred())
			Expect(out).To(ContainSubstring("Succeeded"))
			Eventually(func(g Gomega, ctx context.Context) {
				g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
				g.Expect(rc.Status.Shards[0].Master).NotTo(BeNil())
				g.Expect(rc.Status.Shards[0].Master.Pod).NotTo(Equal(before))
			}).WithContext(ctx).WithTimeout(pluginCommandTimeout).WithPolling(clusterPoll).Should(Succeed())
		}, SpecTimeout(pluginSwitchoverTimeout+pluginCommandTimeout))
	})
}

// lineWith is the first line of s containing sub, or "".
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
