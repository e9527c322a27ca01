package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// backupNow is the RedisBackup `kubectl shoal backup` creates: of rc, now,
// to the destination of its spec.backup (with its source, compression and
// encryption). Without the schedule's label: retention does not prune it.
func backupNow(rc *v1alpha1.RedisCluster, name string, now time.Time) (*v1alpha1.RedisBackup, error) {
	sb := rc.Spec.Backup
	if sb == nil {
		return nil, fmt.Errorf("redisclusters/%s has no spec.backup: its destination is where a backup goes (or kubectl apply a RedisBackup)", rc.Name)
	}
	if name == "" {
		name = rc.Name + "-" + strconv.FormatInt(now.Unix(), 10)
	}
	return &v1alpha1.RedisBackup{
		ObjectMeta: metav1.ObjectMeta{Namespace: rc.Namespace, Name: name},
		Spec: v1alpha1.RedisBackupSpec{Cluster: rc.Name, Destination: *sb.Destination.DeepCopy(), Source: sb.Source,
			Compression: sb.Compression, Encryption: sb.Encryption.DeepCopy()},
	}, nil
}

// restoredCluster is the RedisCluster `kubectl shoal restore` creates:
// named name, from backup b (to at, when set), shaped as src (the backed-up
// cluster, nil when it is gone: the API's defaults then) without its
// bootstrap and backup schedule, with masters when not 0.
func restoredCluster(name string, b *v1alpha1.RedisBackup, src *v1alpha1.RedisCluster, masters int32, at *time.Time) *v1alpha1.RedisCluster {
	rc := &v1alpha1.RedisCluster{ObjectMeta: metav1.ObjectMeta{Namespace: b.Namespace, Name: name}}
	if src != nil {
		rc.Spec = *src.Spec.DeepCopy()
	}
	rc.Spec.Backup, rc.Spec.Bootstrap = nil, &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{BackupName: b.Name}}
	if at != nil {
		t := metav1.NewMicroTime(*at)
		rc.Spec.Bootstrap.FromBackup.PointInTime = &v1alpha1.PointInTimeSpec{Time: &t}
	}
	if masters > 0 {
		rc.Spec.Masters = masters
	}
	return rc
}

func newBackupCommand(o *options) *cobra.Command {
	var name string
	var waitFor time.Duration
	cmd := &cobra.Command{
		Use:               "backup NAME",
		Short:             "Back a RedisCluster up now, to the destination of its spec.backup (a RedisBackup)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeClusters,
		RunE: o.runOnCluster(func(cmd *cobra.Command, s *session, rc *v1alpha1.RedisCluster, _ []corev1.Pod, _ []string) error {
			b, err := backupNow(rc, name, time.Now())
			if err != nil {
				return err
			}
			if err := s.c.Create(cmd.Context(), b); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "redisbackups/%s created\n", b.Name)
			if waitFor <= 0 {
				return nil
			}
			return waitBackup(cmd.Context(), s.c, client.ObjectKeyFromObject(b), waitFor, cmd.OutOrStdout())
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "the RedisBackup's name (default <cluster>-<unix time>)")
	cmd.Flags().DurationVar(&waitFor, "wait", 0, "wait this long at most for the backup to complete (0: do not wait)")
	return cmd
}

// waitBackup polls a RedisBackup until it completed (its location
// printed) or failed (its reason returned), within d.
func waitBackup(ctx context.Context, c client.Client, key client.ObjectKey, d time.Duration, out io.Writer) error {
	b, err := pollObject(ctx, c, key, d, func(b *v1alpha1.RedisBackup) (bool, error) {
		switch b.Status.Phase {
		case v1alpha1.BackupCompleted:
			return true, nil
		case v1alpha1.BackupFailed:
			return false, fmt.Errorf("redisbackups/%s failed: %s", key.Name, b.Status.Reason)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "redisbackups/%s completed: %s\n", key.Name, b.Status.Location)
	return nil
}

func newRestoreCommand(o *options) *cobra.Command {
	var from, at string
	var masters int32
	var waitFor time.Duration
	cmd := &cobra.Command{
		Use:   "restore NEW --from BACKUP",
		Short: "Create a RedisCluster from a RedisBackup (shaped as the backed-up cluster), optionally to a point in time",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return errors.New("--from names the RedisBackup to restore")
			}
			var when *time.Time
			if at != "" {
				t, err := time.Parse(time.RFC3339Nano, at)
				if err != nil {
					return fmt.Errorf("--at: %w", err)
				}
				when = &t
			}
			s, err := o.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var b v1alpha1.RedisBackup
			if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: from}, &b); err != nil {
				return err
			}
			var src *v1alpha1.RedisCluster
			if b.Spec.Cluster != "" {
				src = &v1alpha1.RedisCluster{}
				if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: b.Spec.Cluster}, src); err != nil {
					if client.IgnoreNotFound(err) != nil {
						return err
					}
					src = nil
				}
			}
			rc := restoredCluster(args[0], &b, src, masters, when)
			if err := s.c.Create(ctx, rc); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "redisclusters/%s created from redisbackups/%s\n", rc.Name, b.Name)
			if waitFor <= 0 {
				return nil
			}
			return waitRestore(ctx, s.c, client.ObjectKeyFromObject(rc), waitFor, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the RedisBackup to restore (required)")
	cmd.Flags().StringVar(&at, "at", "", "restore to this time (RFC 3339; the backed-up cluster's spec.backup.continuous archive)")
	cmd.Flags().Int32Var(&masters, "masters", 0, "masters of the new cluster (default: the backed-up cluster's)")
	cmd.Flags().DurationVar(&waitFor, "wait", 0, "wait this long at most for the restore to complete (0: do not wait)")
	return cmd
}

// waitRestore polls a restored RedisCluster until its restore completed
// or failed, within d.
func waitRestore(ctx context.Context, c client.Client, key client.ObjectKey, d time.Duration, out io.Writer) error {
	rc, err := pollObject(ctx, c, key, d, func(rc *v1alpha1.RedisCluster) (bool, error) {
		r := rc.Status.FromBackup
		switch {
		case r == nil:
			return false, nil
		case r.Phase == v1alpha1.RestoreCompleted:
			return true, nil
		case r.Phase == v1alpha1.RestoreFailed:
			return false, fmt.Errorf("redisclusters/%s: the restore failed: %s", key.Name, r.Message)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "redisclusters/%s restored: %d keys\n", key.Name, rc.Status.FromBackup.KeysLoaded)
	return nil
}
