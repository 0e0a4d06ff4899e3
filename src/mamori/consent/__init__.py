"""Cookie consent: the banner built from the cookie registry, choices, receipts, Consent Mode.

- :mod:`mamori.consent.banner` (pure): what the banner shows, its hash, Google Consent Mode v2
  states, the categories Global Privacy Control turns off;
- :mod:`mamori.consent.choice` (pure): a choice checked against the registry, and its cookie;
- :mod:`mamori.consent.receipts`: receipts, hash-chained, anchored in the audit log, exported,
  verified, and read per subject (:func:`mamori.consent.receipts.for_subject`);
- :mod:`mamori.consent.person`: one set of preferences per person (the newest choice a known
  person made, in the center or on a site whose consent ID the host tied to them);
- :mod:`mamori.consent.service`: banners of every published version and recording a choice.

The web routes (banner script, settings, receipt endpoint, no-JavaScript form, privacy-center
page) are in :mod:`mamori.web.public.consent`.
"""
