package plugin

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// options carries the flags every command shares and the clients made from
// them.
type options struct {
	config  *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams
	timeout time.Duration
}

// NewRootCommand is `kubectl shoal` with its subcommands.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{config: genericclioptions.NewConfigFlags(true), streams: streams}
	root := &cobra.Command{
		Use:   "kubectl-shoal",
		Short: "Operate Shoal RedisClusters: status, switchover, pause/resume, check, cli, backup, restore",
		Long: "kubectl shoal operates the RedisClusters of the Shoal operator.\n\n" +
			"Install: copy kubectl-shoal to a directory of PATH; kubectl then runs it as `kubectl shoal`.",
		SilenceUsage: true,
		Annotations:  map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl shoal"},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	o.config.AddFlags(root.PersistentFlags())
	root.PersistentFlags().DurationVar(&o.timeout, "node-timeout", 5*time.Second, "timeout of each command sent to a node")
	root.AddCommand(newStatusCommand(o), newSwitchoverCommand(o), newPauseCommand(o, true), newPauseCommand(o, false),
		newCheckCommand(o), newCLICommand(o), newBackupCommand(o), newRestoreCommand(o))
	return root
}

// scheme knows the built-in kinds and ours.
func scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	b := runtime.NewSchemeBuilder(clientgoscheme.AddToScheme, v1alpha1.AddToScheme)
	return s, b.AddToScheme(s)
}

// clusterRun is the body of a command about one RedisCluster (args[0]),
// given a session, the RedisCluster and its node pods.
type clusterRun func(cmd *cobra.Command, s *session, rc *v1alpha1.RedisCluster, pods []corev1.Pod, args []string) error

// runOnCluster makes a cobra RunE that opens a session and reads the
// RedisCluster named by the first argument and its pods before run.
func (o *options) runOnCluster(run clusterRun) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		s, err := o.session()
		if err != nil {
			return err
		}
		rc, pods, err := s.cluster(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		return run(cmd, s, rc, pods, args)
	}
}

// session is what a command works with: a client, the REST config (for
// port-forwards) and the namespace of the kubeconfig flags.
type session struct {
	*options
	c         client.Client
	rest      *rest.Config
	namespace string
}

func (o *options) session() (*session, error) {
	cfg, err := o.config.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	ns, _, err := o.config.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, err
	}
	s, err := scheme()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, err
	}
	return &session{options: o, c: c, rest: cfg, namespace: ns}, nil
}

// cluster reads the RedisCluster name and its node pods, sorted by name.
func (s *session) cluster(ctx context.Context, name string) (*v1alpha1.RedisCluster, []corev1.Pod, error) {
	rc := &v1alpha1.RedisCluster{}
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, rc); err != nil {
		return nil, nil, err
	}
	var pods corev1.PodList
	if err := s.c.List(ctx, &pods, client.InNamespace(s.namespace),
		client.MatchingLabels{builders.LabelCluster: rc.Name}); err != nil {
		return nil, nil, err
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	return rc, pods.Items, nil
}

// password reads the cluster's password from its auth Secret.
func (s *session) password(ctx context.Context, rc *v1alpha1.RedisCluster) (string, error) {
	ref, _ := rc.AuthSecret()
	var sec corev1.Secret
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: rc.Namespace, Name: ref.Name}, &sec); err != nil {
		return "", fmt.Errorf("the auth Secret of %s: %w", rc.Name, err)
	}
	pw, ok := sec.Data[ref.Key]
	if !ok {
		return "", fmt.Errorf("the auth Secret %s has no key %q", ref.Name, ref.Key)
	}
	return string(pw), nil
}

// completeClusters completes RedisCluster names of the namespace.
func (o *options) completeClusters(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	s, err := o.session()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var list v1alpha1.RedisClusterList
	if err := s.c.List(cmd.Context(), &list, client.InNamespace(s.namespace)); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	names := make([]string, 0, len(list.Items))
	for _, rc := range list.Items {
		names = append(names, rc.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
