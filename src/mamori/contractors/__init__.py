"""The register of contractors (委託先): contracts, supervision checks, and the standing that
the provision gate and contractors' API keys consult (APPI 25)."""
