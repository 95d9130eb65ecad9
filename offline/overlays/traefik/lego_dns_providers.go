// Takes the place of lego's generated providers/dns/zz_gen_dns_providers.go in the Traefik built here
// (pins.yml, offline.go_parts.traefik.overlays). That file imports lego's ~190 DNS providers, each with
// its cloud's SDK, for ACME's DNS-01 challenge; the stand-in cluster's Traefik serves certificates from
// Secrets and never asks an ACME server. Without them the build has 847 Go packages fewer (of 2495).
// Traefik calls only this function from the package; asked for a DNS-01 provider, this build says why it
// has none.

package dns

import (
	"fmt"

	"github.com/go-acme/lego/v4/challenge"
)

// NewDNSChallengeProviderByName refuses every name: this Traefik has no DNS-01 providers.
func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("ACME DNS challenge provider %q: this Traefik was built without lego's DNS providers;"+
		" use the HTTP-01 or TLS-ALPN-01 challenge, or certificates from Secrets", name)
}
