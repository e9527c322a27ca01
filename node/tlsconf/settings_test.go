package tlsconf

import (
	"crypto/tls"
	"reflect"
	"testing"
)

func TestParseProtocols(t *testing.T) {
	for _, tc := range []struct {
		in       string
		min, max uint16
		bad      bool
	}{
		{"", tls.VersionTLS12, tls.VersionTLS13, false},
		{"TLSv1.2", tls.VersionTLS12, tls.VersionTLS12, false},
		{"tlsv1.3 TLSv1.2", tls.VersionTLS12, tls.VersionTLS13, false},
		{"TLSv1 TLSv1.3", tls.VersionTLS10, tls.VersionTLS13, false},
		{"SSLv3", 0, 0, true},
	} {
		lo, hi, err := ParseProtocols(tc.in)
		if (err != nil) != tc.bad || !tc.bad && (lo != tc.min || hi != tc.max) {
			t.Errorf("ParseProtocols(%q) = %x, %x, %v", tc.in, lo, hi, err)
		}
	}
}

func TestParseCiphersOpenSSLNames(t *testing.T) {
	got, err := ParseCiphers("ECDHE-RSA-AES256-GCM-SHA384:HIGH:!aNULL:ECDHE-ECDSA-CHACHA20-POLY1305,TLS_RSA_WITH_AES_128_GCM_SHA256")
	want := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseCiphers = %v, %v; want %v", got, err, want)
	}
	if _, err := ParseCiphers("DHE-RSA-AES256-SHA:NOPE"); err == nil {
		t.Fatal("a list selecting no suite Go has was accepted")
	}
	if got, err := ParseCiphers(""); got != nil || err != nil {
		t.Fatalf("empty list = %v, %v; want Go's defaults (nil)", got, err)
	}
}
