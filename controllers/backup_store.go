package controllers

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=delete

// BackupStores opens the stores of backup destinations: an S3 bucket
// (credentials from a Secret), or a PersistentVolumeClaim, which the
// operator cannot mount: a store pod of its own image mounts the claim
// and serves it over HTTP (builders.StoreDeployment), made when a backup,
// a restore or a prune needs it and owned by each of them until it is
// done (releasePVCStores): a store runs only while it is used.
type BackupStores struct {
	// Image of the store pods: the operator's own.
	Image string
	// Address is the base URL of the store Service in namespace ns (nil:
	// http://<ready store pod's IP>:<port>: the Service's address works
	// only once the cluster's proxies have its endpoint, a moment after
	// the pod is ready, and a backup's first upload came sooner in the
	// e2e: connection refused). Tests without pods point it at a store
	// served in the test.
	Address func(ns, service string) string
	// HTTP is the client of the stores (nil: one whose responses must
	// start within storeResponseTimeout of a request's end).
	HTTP *http.Client
}

// storeResponseTimeout bounds the wait for a store's answer once a
// request is sent (an upload's answer follows its fsync).
const storeResponseTimeout = 2 * time.Minute

// openedStore is the store of a destination.
type openedStore struct {
	objects backup.Objects
	// root starts the locations of its folders: s3://<bucket>/ or
	// pvc://<claim>/; prefix is the destination's folder of backups (the
	// S3 prefix, the PVC subPath).
	root, prefix string
}

// storeOpener opens the store of a destination (s3 or pvc); when it
// cannot yet, reason and problem say why (the credentials, a store pod
// not ready).
type storeOpener func(ctx context.Context, s3 *v1alpha1.S3Destination, pvc *v1alpha1.PVCDestination) (*openedStore, v1alpha1.ConditionReason, string, error)

// opener opens destinations for owner (of kind, in its namespace): a PVC
// store it uses is made with, or given, an owner reference to it. c
// writes the store's objects, secrets reads them and the S3 credentials.
func (s BackupStores) opener(c client.Client, secrets client.Reader, owner client.Object, kind string) storeOpener {
	return func(ctx context.Context, s3 *v1alpha1.S3Destination, pvc *v1alpha1.PVCDestination) (*openedStore, v1alpha1.ConditionReason, string, error) {
		ns := owner.GetNamespace()
		if pvc == nil {
			if s3 == nil {
				return nil, "", "", fmt.Errorf("a destination without s3 or pvc")
			}
			st, problem, err := openStore(ctx, secrets, ns, s3)
			if err != nil || problem != "" {
				return nil, v1alpha1.ReasonBackupCredentials, problem, err
			}
			return &openedStore{objects: st, root: "s3://" + st.Bucket() + "/", prefix: s3.Prefix}, "", "", nil
		}
		token, ready, err := ensurePVCStore(ctx, c, secrets, ns, pvc.ClaimName, s.Image, builders.StoreOwner(owner, kind))
		if err != nil {
			return nil, "", "", err
		}
		if !ready {
			return nil, v1alpha1.ReasonBackupWaitingForStore, fmt.Sprintf("waiting for the store of PersistentVolumeClaim %s (Deployment %s) to be ready",
				pvc.ClaimName, builders.StoreName(pvc.ClaimName)), nil
		}
		var base string
		if s.Address != nil {
			base = s.Address(ns, builders.StoreName(pvc.ClaimName))
		} else {
			ip, err := storePodIP(ctx, secrets, ns, pvc.ClaimName)
			if err != nil {
				return nil, "", "", err
			}
			if ip == "" {
				return nil, v1alpha1.ReasonBackupWaitingForStore, fmt.Sprintf("waiting for the store of PersistentVolumeClaim %s (Deployment %s) to have a ready pod",
					pvc.ClaimName, builders.StoreName(pvc.ClaimName)), nil
			}
			base = fmt.Sprintf("http://%s", net.JoinHostPort(ip, strconv.Itoa(builders.StorePort)))
		}
		hc := s.HTTP
		if hc == nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.ResponseHeaderTimeout = storeResponseTimeout
			hc = &http.Client{Transport: t}
		}
		objs := backup.NewHTTPStore(base, token, hc)
		return &openedStore{objects: objs, root: "pvc://" + pvc.ClaimName + "/", prefix: pvc.SubPath}, "", "", nil
	}
}

// ensurePVCStore makes the Secret, Service and Deployment of the store of
// claim unless they exist, adds owner to their owners, and returns the
// store's token and whether its pod is ready. Reads go to r (the API
// server: the objects were maybe made a moment ago).
func ensurePVCStore(ctx context.Context, c client.Client, r client.Reader, ns, claim, image string, owner metav1.OwnerReference) (string, bool, error) {
	token, err := RandomPassword()
	if err != nil {
		return "", false, err
	}
	secret, d := &corev1.Secret{}, &appsv1.Deployment{}
	if err := ensureOwnedObject(ctx, c, r, builders.StoreSecret(ns, claim, token, owner), secret, owner); err != nil {
		return "", false, err
	}
	if err := ensureOwnedObject(ctx, c, r, builders.StoreService(ns, claim, owner), &corev1.Service{}, owner); err != nil {
		return "", false, err
	}
	want := builders.StoreDeployment(ns, claim, image, owner)
	if err := ensureOwnedObject(ctx, c, r, want, d, owner); err != nil {
		return "", false, err
	}
	// A store made by an operator of another version runs the image of
	// this one from now on (its pod is replaced: not ready meanwhile).
	if !equality.Semantic.DeepDerivative(want.Spec.Template, d.Spec.Template) {
		before := d.DeepCopy()
		d.Spec.Template = want.Spec.Template
		if err := c.Patch(ctx, d, client.MergeFrom(before)); err != nil {
			return "", false, err
		}
	}
	return string(secret.Data[builders.StoreTokenKey]), builders.StoreReady(d), nil
}

// ensureOwnedObject creates want unless an object of its name exists,
// reads the object into live (an empty object of its type) and adds owner
// to its owners.
func ensureOwnedObject(ctx context.Context, c client.Client, r client.Reader, want, live client.Object, owner metav1.OwnerReference) error {
	key := client.ObjectKeyFromObject(want)
	err := r.Get(ctx, key, live)
	if apierrors.IsNotFound(err) {
		if err := c.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		err = r.Get(ctx, key, live)
	}
	if err != nil {
		return err
	}
	refs := live.GetOwnerReferences()
	if slices.ContainsFunc(refs, func(o metav1.OwnerReference) bool { return o.UID == owner.UID }) {
		return nil
	}
	return patchOwners(ctx, c, live, append(refs, owner))
}

// patchOwners sets the owners of obj, failing on a conflict (a merge
// patch replaces the whole list: one written meanwhile would be lost).
func patchOwners(ctx context.Context, c client.Client, obj client.Object, owners []metav1.OwnerReference) error {
	before := obj.DeepCopyObject().(client.Object)
	obj.SetOwnerReferences(owners)
	return c.Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}

// releasePVCStores removes owner from the owners of the PVC store objects
// of namespace ns, and deletes those it leaves without an owner (the
// garbage collector only deletes an object once its owners are deleted).
// A delete requires the object unchanged since it was read, so an owner
// added meanwhile keeps it.
func releasePVCStores(ctx context.Context, c client.Client, ns string, owner types.UID) error {
	sel := client.MatchingLabels{builders.LabelComponent: builders.StoreComponent, builders.LabelManagedBy: builders.ManagedByLabel()[builders.LabelManagedBy]}
	for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &corev1.SecretList{}} {
		if err := c.List(ctx, list, client.InNamespace(ns), sel); err != nil {
			return err
		}
		err := meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			refs := obj.GetOwnerReferences()
			kept := slices.DeleteFunc(slices.Clone(refs), func(r metav1.OwnerReference) bool { return r.UID == owner })
			switch {
			case len(kept) == len(refs):
				return nil
			case len(kept) == 0:
				rv := obj.GetResourceVersion()
				return client.IgnoreNotFound(c.Delete(ctx, obj, client.Preconditions{ResourceVersion: &rv}))
			}
			return patchOwners(ctx, c, obj, kept)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// storePodIP is the IP of a ready pod of the store of claim ("" for
// none yet).
func storePodIP(ctx context.Context, r client.Reader, ns, claim string) (string, error) {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(builders.StoreSelector(claim))); err != nil {
		return "", err
	}
	for i := range pods.Items {
		if p := &pods.Items[i]; podReady(p) {
			return p.Status.PodIP, nil
		}
	}
	return "", nil
}
