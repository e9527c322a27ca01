package chart

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestGrafanaDashboards: with grafana.dashboards.enabled the chart ships
// dashboards/*.json in a ConfigMap with the sidecar's label, each a JSON
// dashboard whose panels all query something; without, no ConfigMap.
func TestGrafanaDashboards(t *testing.T) {
	if _, ok := render(t)["ConfigMap/"+namespace+"/shoal-dashboards"]; ok {
		t.Error("dashboards ConfigMap rendered by default")
	}
	r := render(t, "grafana.dashboards.enabled=true")
	cm, ok := r["ConfigMap/"+namespace+"/shoal-dashboards"]
	if !ok {
		t.Fatalf("no dashboards ConfigMap among %v", r.kinds())
	}
	if cm.GetLabels()["grafana_dashboard"] != "1" {
		t.Errorf("labels %v", cm.GetLabels())
	}
	data, _ := cm.Object["data"].(map[string]any)
	text, _ := data["shoal-rediscluster.json"].(string)
	file, err := os.ReadFile("dashboards/shoal-rediscluster.json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(text) != strings.TrimSpace(string(file)) {
		t.Error("the ConfigMap's dashboard differs from dashboards/shoal-rediscluster.json")
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(text), &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" || len(dash.Panels) < 10 {
		t.Errorf("uid %q, %d panels", dash.UID, len(dash.Panels))
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 || p.Targets[0].Expr == "" {
			t.Errorf("panel %q queries nothing", p.Title)
		}
	}
}
