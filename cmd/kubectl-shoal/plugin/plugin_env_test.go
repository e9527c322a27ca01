package plugin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/internal/testenv"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// TestPluginAgainstAPIServer runs the plugin's commands as a user types
// them (the root command with --kubeconfig and -n) against a real
// kube-apiserver and etcd holding the CRD, a RedisCluster with status, its
// pods and its auth Secret. There is no kubelet: pods are created as the
// StatefulSet controller would, and a port-forward to them fails, which
// status must survive (a warning, the table without node figures).
func TestPluginAgainstAPIServer(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		testenv.Unavailable(t, "no KUBEBUILDER_ASSETS: set it to hack/envtest-assets.sh's output (make test does)")
	}
	ctrllog.SetLogger(logr.Discard())
	te := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		// envtest waits 20 s by default for etcd and kube-apiserver: a
		// busy machine took longer five times in a row.
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := te.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := te.Stop(); err != nil {
			t.Error(err)
		}
	})
	user, err := te.ControlPlane.AddUser(envtest.User{Name: "plugin-user", Groups: []string{"system:masters"}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := scheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const ns = "plugin"
	must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	rc := sampleCluster()
	rc.Namespace, rc.Annotations = ns, nil
	status := rc.Status
	must(t, c.Create(ctx, rc))
	rc.Status = status
	rc.Status.ObservedGeneration = rc.Generation
	must(t, c.Status().Update(ctx, rc))
	must(t, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sample-auth", Namespace: ns},
		Data: map[string][]byte{"password": []byte("pw")}}))
	for _, name := range []string{"sample-shard-0-0", "sample-shard-0-1", "sample-shard-1-0"} {
		p := pod(name, name[len("sample-shard-"):len("sample-shard-")+1], corev1.PodRunning, true, 0)
		p.Namespace, p.Status = ns, corev1.PodStatus{}
		p.Labels["redis.shoal.dev/cluster"] = "sample"
		p.Spec.Containers[0].Image = "shoal/node:envtest"
		must(t, c.Create(ctx, &p))
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "node", Ready: true, Image: "x", ImageID: "x"}}}
		must(t, c.Status().Update(ctx, &p))
	}

	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		root := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		root.SetArgs(append([]string{"--kubeconfig", kcPath, "-n", ns, "--node-timeout", "2s"}, args...))
		err := root.ExecuteContext(ctx)
		return out.String(), errOut.String(), err
	}

	t.Run("status", func(t *testing.T) {
		out, errOut, err := run("status", "sample")
		if err != nil {
			t.Fatalf("status: %v\n%s", err, errOut)
		}
		got := spaces.ReplaceAllString(out, " ")
		for _, want := range []string{
			"RedisCluster plugin/sample: cluster_state ok, slots 16384/16384, masters 2/3 ready, replicas 1/3 ready\n",
			"sample-shard-0 sample-shard-0-0 master 0-8191 (8192) - - - - Running 1/1\n",
			" sample-shard-1-1 replica - disconnected 0B - - missing\n",
			"Migration ScaleOut: 100/400 slots moved (25.0%)",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("status lacks %q:\n%s", want, out)
			}
		}
		// No kubelet: every node read fails, with a warning per pod.
		if strings.Count(errOut, "warning: sample-shard-") != 3 {
			t.Errorf("want a warning per running pod, got:\n%s", errOut)
		}
	})

	t.Run("status of a missing cluster", func(t *testing.T) {
		if _, _, err := run("status", "nope"); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("err = %v, want not found", err)
		}
	})

	annotations := func() map[string]string {
		var got v1alpha1.RedisCluster
		must(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "sample"}, &got))
		return got.Annotations
	}

	t.Run("pause and resume", func(t *testing.T) {
		if out, _, err := run("pause", "sample"); err != nil || out != "redisclusters/sample paused\n" {
			t.Fatalf("pause: %q %v", out, err)
		}
		if a := annotations(); a[v1alpha1.PausedAnnotation] != "true" {
			t.Errorf("after pause: annotations %v", a)
		}
		if out, _, err := run("resume", "sample"); err != nil || out != "redisclusters/sample resumed\n" {
			t.Fatalf("resume: %q %v", out, err)
		}
		if a := annotations(); a[v1alpha1.PausedAnnotation] != "" {
			t.Errorf("after resume: annotations %v", a)
		}
	})

	t.Run("backup and restore", func(t *testing.T) {
		if _, _, err := run("backup", "sample"); err == nil || !strings.Contains(err.Error(), "has no spec.backup") {
			t.Errorf("a backup of a cluster without spec.backup: %v", err)
		}
		live := &v1alpha1.RedisCluster{}
		must(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "sample"}, live))
		patch := client.MergeFrom(live.DeepCopy())
		dest := v1alpha1.BackupDestination{S3: &v1alpha1.S3Destination{Endpoint: "s3.local:9000", Bucket: "backups",
			CredentialsSecret: v1alpha1.S3Credentials{Name: "s3"}}}
		live.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily", Destination: dest, Compression: v1alpha1.CompressionZstd}
		must(t, c.Patch(ctx, live, patch))
		if out, _, err := run("backup", "sample", "--name", "now1"); err != nil || out != "redisbackups/now1 created\n" {
			t.Fatalf("backup: %q %v", out, err)
		}
		b := &v1alpha1.RedisBackup{}
		must(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "now1"}, b))
		if b.Spec.Cluster != "sample" || b.Spec.Destination.S3 == nil || b.Spec.Destination.S3.Bucket != "backups" || b.Spec.Compression != v1alpha1.CompressionZstd {
			t.Errorf("the backup's spec %+v", b.Spec)
		}
		if _, _, err := run("restore", "copy"); err == nil || !strings.Contains(err.Error(), "--from") {
			t.Errorf("a restore without --from: %v", err)
		}
		out, _, err := run("restore", "copy", "--from", "now1", "--masters", "4", "--at", "2026-12-06T10:00:00.5Z")
		if err != nil || out != "redisclusters/copy created from redisbackups/now1\n" {
			t.Fatalf("restore: %q %v", out, err)
		}
		cp := &v1alpha1.RedisCluster{}
		must(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "copy"}, cp))
		fb := cp.Spec.Bootstrap.FromBackup
		if cp.Spec.Masters != 4 || cp.Spec.ReplicasPerMaster != live.Spec.ReplicasPerMaster || cp.Spec.Backup != nil || fb == nil ||
			fb.BackupName != "now1" || fb.PointInTime == nil || !fb.PointInTime.Time.Equal(&metav1.MicroTime{Time: time.Date(2026, 12, 6, 10, 0, 0, 5e8, time.UTC)}) {
			t.Errorf("the restored cluster's spec %+v", cp.Spec)
		}
		must(t, c.Delete(ctx, cp)) // the completion below lists the clusters
	})

	t.Run("switchover", func(t *testing.T) {
		if _, _, err := run("switchover", "sample", "--shard", "1"); err == nil {
			t.Error("shard 1 has no connected replica: want an error")
		}
		if _, ok := annotations()[v1alpha1.SwitchoverAnnotation]; ok {
			t.Error("a refused switchover set the annotation")
		}
		if _, _, err := run("switchover", "sample", "--shard", "0"); err != nil {
			t.Fatal(err)
		}
		if a := annotations(); a[v1alpha1.SwitchoverAnnotation] != "sample-shard-0-1" {
			t.Errorf("annotations %v", a)
		}
		if _, _, err := run("switchover", "sample", "sample-shard-1-1"); err != nil {
			t.Fatal(err)
		}
		if a := annotations(); a[v1alpha1.SwitchoverAnnotation] != "sample-shard-1-1" {
			t.Errorf("annotations %v", a)
		}
	})

	t.Run("check with no node answering fails", func(t *testing.T) {
		out, _, err := run("check", "sample")
		if err == nil || !strings.Contains(out, "[ERR] Pod sample-shard-0-0 did not answer.") {
			t.Errorf("check: %v\n%s", err, out)
		}
	})

	t.Run("completion", func(t *testing.T) {
		out, _, err := run("__complete", "status", "")
		if err != nil || !strings.HasPrefix(out, "sample\n") {
			t.Errorf("completing a cluster name: %q %v", out, err)
		}
		if out, _, err := run("completion", "bash"); err != nil || !strings.Contains(out, "bash completion") {
			t.Errorf("completion bash: %v", err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
