# Shoal: a Kubernetes operator for a Redis-Cluster-compatible store of Go nodes.
# Kubebuilder-shaped Makefile. Every tool is pinned and installed into ./bin.

IMG_TAG ?= dev
OPERATOR_IMG ?= shoal/operator:$(IMG_TAG)
NODE_IMG ?= shoal/node:$(IMG_TAG)
K8S_VERSION ?= 1.34.4
SHOAL_CACHE ?= $(HOME)/.cache/shoal
KIND_CLUSTER ?= shoal-e2e
# How long the fuzz targets run in `make fuzz` (and in CI).
FUZZTIME ?= 10s
# Extra ginkgo flags of `make test-e2e-local`, e.g. E2E_ARGS=--label-filter=day2.
E2E_ARGS ?=
# Total time of the differential fuzzer in `make fuzz-diff` (and in CI).
FUZZDIFF_TIME ?= 60s

export GOTOOLCHAIN := local
export IMG_TAG OPERATOR_IMG NODE_IMG K8S_VERSION SHOAL_CACHE

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(shell pwd)/bin
DIST ?= $(shell pwd)/dist
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

## Pinned tools
CONTROLLER_TOOLS_VERSION ?= v0.19.0
GOLANGCI_LINT_VERSION ?= v2.15.0
HELM_VERSION ?= v3.16.4
KUSTOMIZE_VERSION ?= v5.7.1
KIND_VERSION ?= v0.24.0
GINKGO_VERSION ?= v2.34.0
# The S3-compatible server of the backup tests (a separate process on
# 127.0.0.1 with its bolt on-disk backend; it does not check signatures).
GOFAKES3_VERSION ?= v1.2.0
METRICS_SERVER_VERSION ?= v0.8.0

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
KIND ?= $(LOCALBIN)/kind-$(KIND_VERSION)
GINKGO ?= $(LOCALBIN)/ginkgo-$(GINKGO_VERSION)
S3SERVER ?= $(LOCALBIN)/gofakes3-$(GOFAKES3_VERSION)
METRICS_SERVER ?= $(LOCALBIN)/metrics-server-$(METRICS_SERVER_VERSION)

# go-install-tool installs package $2 at version $3 as $1 (a versioned name in ./bin).
define go-install-tool
@[ -f "$(1)" ] || { \
	set -e; \
	echo "Installing $(2)@$(3) into $(LOCALBIN)"; \
	GOBIN=$(LOCALBIN) go install $(2)@$(3); \
	mv "$(LOCALBIN)/$$(basename $$(echo "$(2)" | sed 's|/v[0-9]*$$||'))" "$(1)"; \
}
endef

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC into config/ and the chart.
	$(CONTROLLER_GEN) rbac:roleName=shoal-manager-role crd paths="./api/...;./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	cp config/crd/bases/*.yaml charts/shoal/crds/

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: verify-generated
verify-generated: manifests generate ## Fail when generated files are stale.
	@git diff --exit-code -- api config charts/shoal/crds || { echo "generated files are stale: run make manifests generate"; exit 1; }

.PHONY: fmt
fmt: ## go fmt
	go fmt ./...

.PHONY: vet
vet: ## go vet
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (linters listed in .golangci.yml).
	$(GOLANGCI_LINT) run ./...

.PHONY: node-clients
node-clients: ## Node.js client libraries of test/clients (BullMQ, ioredis), pinned by its package-lock.json.
	hack/node-clients.sh

.PHONY: test
test: vet helm node-clients s3server ## Unit, node integration and envtest tests (real kube-apiserver + etcd).
	SHOAL_REQUIRE_TOOLS=1 HELM="$(HELM)" SHOAL_S3SERVER="$(S3SERVER)" KUBEBUILDER_ASSETS="$$(hack/envtest-assets.sh)" go test -count=1 -timeout 30m $$(go list ./... | grep -v /test/e2e) -coverprofile cover.out

# The tests the race detector runs (test-race): the epoll event loops, the
# in-process engine, chunked capture (BGSAVE), loading while serving and
# replication in node/server, with the node processes built with -race too
# (SHOAL_NODE_RACE=1: a race in a node fails the test), and all of
# node/persistence, node/replication and node/keyspace/... (the value types
# use unsafe; -race turns on checkptr). Chosen to stay under 5 minutes on
# 2 cores; the whole node/server package under -race takes far longer.
RACE_SERVER_TESTS ?= TestEventLoop|TestPropagationOfEffectiveWrites|TestBlockedClientDisconnect|TestProtectedModeAndMaxclients|TestApplyWritePause|TestPersistBGSaveIsPointInTime|TestPersistShutdownDuringBGSave|TestPersistCrashLoses|TestLoadingSnapshotAnswersLoading|TestReplicationFullSyncUnderWrites|TestReplicationPartialResync|TestReplicationPromotion|TestMigrateServesOthersWhileTargetWaits|TestReplicationAckedWritesSurviveKill|TestRunLocked

.PHONY: test-race
test-race: ## go test -race (and so checkptr) over node/persistence, node/replication, node/keyspace/... and the concurrent parts of node/server (RACE_SERVER_TESTS).
	SHOAL_REQUIRE_TOOLS=1 go test -race -count=1 -timeout 10m ./node/persistence ./node/replication ./node/keyspace/...
	SHOAL_REQUIRE_TOOLS=1 SHOAL_NODE_RACE=1 go test -race -count=1 -timeout 10m ./node/server -run '^($(RACE_SERVER_TESTS))'

.PHONY: fuzz
fuzz: ## Run every fuzz target briefly (FUZZTIME each).
	hack/fuzz.sh $(FUZZTIME)

.PHONY: fuzz-diff
fuzz-diff: ## Differential fuzzer, node vs redis-server: fixed seeds + one fresh (FUZZDIFF_TIME in all); fails on CRASH or HANG.
	go run ./test/fuzzdiff -ci -duration $(FUZZDIFF_TIME)

.PHONY: test-e2e-local
test-e2e-local: images ginkgo helm s3server metrics-server ## e2e on a local single-node Kubernetes (no Docker): up, load images, run, down.
	hack/local-cluster.sh up
	hack/local-cluster.sh load-image $(DIST)/images/node.tar
	hack/local-cluster.sh load-image $(DIST)/images/operator.tar
	rc=0; HELM="$(HELM)" SHOAL_S3SERVER="$(S3SERVER)" SHOAL_METRICS_SERVER="$(METRICS_SERVER)" KUBECONFIG="$$(hack/local-cluster.sh kubeconfig)" $(GINKGO) -v --timeout=40m $(E2E_ARGS) ./test/e2e -- -node-image=$(NODE_IMG) -operator-image=$(OPERATOR_IMG) || rc=$$?; \
	hack/local-cluster.sh down; exit $$rc

.PHONY: test-e2e
test-e2e: kind ginkgo ## e2e on kind (needs Docker): create cluster, build + kind load images, run the suite.
	KIND=$(KIND) GINKGO=$(GINKGO) KIND_CLUSTER=$(KIND_CLUSTER) hack/kind-e2e.sh

.PHONY: test-all
test-all: ## Everything CI runs: tests, fuzz smoke, differential fuzz, e2e on the local cluster.
	$(MAKE) test
	$(MAKE) test-race
	$(MAKE) fuzz
	$(MAKE) fuzz-diff
	$(MAKE) test-e2e-local

##@ Build

.PHONY: build
build: ## Build the operator, the node and the kubectl plugin (kubectl-shoal) for this machine into ./bin.
	go build -o $(LOCALBIN)/shoal-operator .
	go build -o $(LOCALBIN)/shoal-node ./node/cmd/shoal-node
	go build -o $(LOCALBIN)/kubectl-shoal ./cmd/kubectl-shoal
	install -m 0755 cmd/kubectl-shoal/kubectl_complete-shoal $(LOCALBIN)/

.PHONY: images
images: ## Build OCI image tarballs (FROM scratch, linux/amd64) into dist/images without Docker.
	hack/build-images.sh $(DIST)/images

.PHONY: run
run: manifests generate ## Run the operator against the current KUBECONFIG.
	go run ./main.go

##@ Local cluster (no Docker)

.PHONY: local-up
local-up: ## Start the single-node Kubernetes (containerd + real kubelet).
	hack/local-cluster.sh up

.PHONY: local-down
local-down: ## Stop it and leave the machine as found.
	hack/local-cluster.sh down

.PHONY: run-local
run-local: images helm ## The whole thing: local cluster, images, helm install, sample RedisCluster.
	hack/run-local.sh

##@ Deployment

.PHONY: install
install: manifests kustomize ## Install CRDs into the cluster in KUBECONFIG.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Remove CRDs.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: helm ## Install or upgrade the operator with the Helm chart.
	$(HELM) upgrade --install shoal charts/shoal --namespace shoal-system --create-namespace \
		--set image.tag=$(IMG_TAG) --set nodeImage.tag=$(IMG_TAG) --wait

.PHONY: undeploy
undeploy: helm ## Uninstall the operator.
	$(HELM) uninstall shoal --namespace shoal-system --ignore-not-found

##@ Benchmarks (reports, not tests)

.PHONY: bench
bench: ## Node vs Redis 7 side by side (redis-benchmark); prints ours/Redis ratios.
	hack/bench-node.sh

.PHONY: bench-metrics
bench-metrics: ## What serving metrics costs: redis-benchmark with and without a 1 s /metrics scraper; prints the ratio.
	hack/bench-metrics.sh

.PHONY: bench-cluster
bench-cluster: ## 3-master shoal cluster vs 3-master Redis 7 cluster: redis-benchmark --cluster set/get and reshard of 200k keys, ours/Redis ratios.
	hack/bench-cluster.sh

.PHONY: bench-failover
bench-failover: ## Failover (kill -9 of a master to the first write to its slots) and full sync of 1M keys, ours vs Redis 7; ratios.
	hack/bench-failover.sh

.PHONY: bench-sentinel
bench-sentinel: ## Sentinel failover: kill -9 of the master to the first write a FailoverClient gets accepted, our sentinels vs redis-sentinel (same down-after-milliseconds); ROUNDS=n.
	SHOAL_SENTINEL_FIGURE=1 go test ./node/sentinel -run TestFigureKillToFirstWrite -count=1 -v -timeout 30m | grep -E 'round|mean|FAIL|ok'

.PHONY: bench-persist
bench-persist: ## Snapshot write (SAVE) and load of 1M keys: the former own format, RDB (rdbcompression yes/no), redis-server's load of our file; us/key. BEFORE_COMMIT=<commit> adds that build's RDB rows.
	node/persistence/interop/bench_rdb.sh

# The movers on spare CPU only (as on a machine of their own: on two cores
# they would otherwise take it from the nodes and the load), ours paced as
# spec.migration {maxLatencyImpact: 3ms, slotsInFlight: 16}. Empty for the
# unpaced engine at normal priority: make bench-reshard BENCH_RESHARD_ARGS=
# Three runs of each mover, alternating, and their medians: single runs on
# a shared two-core machine vary by tens of percent (BENCH_RESHARD_RUNS=1:
# one run, about 1.5 minutes).
BENCH_RESHARD_RUNS ?= 3
BENCH_RESHARD_ARGS ?= -mover-sched idle -max-latency-impact 3ms -slots-in-flight 16

.PHONY: bench-reshard
bench-reshard: ## Slot migration 3 -> 5 masters of 1M 100-byte keys under load: the operator's paced engine vs redis-cli --cluster rebalance --cluster-use-empty-masters; ratio, errors, p99, CPU; medians of 3 runs.
	hack/bench-reshard.sh -runs $(BENCH_RESHARD_RUNS) $(BENCH_RESHARD_ARGS)

.PHONY: bench-backup
bench-backup: s3server ## Backup of 3 masters with 1M 100-byte keys to S3 (gofakes3) under a steady load, restore into 3 and 5 masters: MB/s, keys/s, p99 before/during.
	S3SERVER=$(S3SERVER) hack/bench-backup.sh

##@ Tools

.PHONY: controller-gen
controller-gen: $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: golangci-lint
golangci-lint: $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: metrics-server
metrics-server: $(LOCALBIN) ## Kubernetes metrics-server (the resource metrics API a HorizontalPodAutoscaler reads), run on the host by the autoscale e2e.
	$(call go-install-tool,$(METRICS_SERVER),sigs.k8s.io/metrics-server/cmd/metrics-server,$(METRICS_SERVER_VERSION))

.PHONY: s3server
s3server: $(LOCALBIN) ## The S3-compatible server of the backup tests (gofakes3, on-disk bolt backend).
	$(call go-install-tool,$(S3SERVER),github.com/johannesboyne/gofakes3/cmd/gofakes3,$(GOFAKES3_VERSION))

.PHONY: helm
helm: $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

.PHONY: kustomize
kustomize: $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: kind
kind: $(LOCALBIN)
	$(call go-install-tool,$(KIND),sigs.k8s.io/kind,$(KIND_VERSION))

.PHONY: ginkgo
ginkgo: $(LOCALBIN)
	$(call go-install-tool,$(GINKGO),github.com/onsi/ginkgo/v2/ginkgo,$(GINKGO_VERSION))
