// Package e2e is the end-to-end suite: it runs against whatever Kubernetes
// cluster KUBECONFIG names (hack/local-cluster.sh here, kind on workstations)
// and reads nothing else but the flags -node-image and -operator-image.
//
//	KUBECONFIG=... ginkgo -v ./test/e2e -- -node-image=shoal/node:dev -operator-image=shoal/operator:dev
//
// Specs create their own namespaces and delete them when done; they must not
// depend on how the cluster was made or on state left by other specs.
package e2e

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

const (
	nodeImageFlag        = "node-image"
	operatorImageFlag    = "operator-image"
	defaultNodeImage     = "shoal/node:dev"
	defaultOperatorImage = "shoal/operator:dev"
)

// suiteConfig is what every spec needs: the images under test and clients
// for the cluster in KUBECONFIG.
type suiteConfig struct {
	NodeImage     string
	OperatorImage string
	Rest          *rest.Config
	Client        kubernetes.Interface
}

func TestMain(m *testing.M) {
	// Registered here rather than in package variables; specs read them back
	// with flag.Lookup in loadSuiteConfig.
	flag.String(nodeImageFlag, defaultNodeImage, "data node image, already loaded into the cluster")
	flag.String(operatorImageFlag, defaultOperatorImage, "operator image, already loaded into the cluster")
	os.Exit(m.Run())
}

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	// The API server's warnings (an Endpoints object is deprecated) go to
	// the spec's output instead of controller-runtime's "SetLogger was
	// never called" stack dump.
	ctrllog.SetLogger(GinkgoLogr)
	RunSpecs(t, "shoal e2e")
}

// loadSuiteConfig reads KUBECONFIG and the image flags.
func loadSuiteConfig() (suiteConfig, error) {
	kubeconfig := os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		return suiteConfig{}, errors.New("KUBECONFIG is not set: point it at the cluster under test")
	}
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(kubeconfig)}
	restCfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return suiteConfig{}, err
	}
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return suiteConfig{}, err
	}
	return suiteConfig{
		NodeImage:     flag.Lookup(nodeImageFlag).Value.String(),
		OperatorImage: flag.Lookup(operatorImageFlag).Value.String(),
		Rest:          restCfg,
		Client:        client,
	}, nil
}

// mustLoadSuiteConfig is loadSuiteConfig for setup nodes.
func mustLoadSuiteConfig() suiteConfig {
	cfg, err := loadSuiteConfig()
	Expect(err).NotTo(HaveOccurred())
	return cfg
}
