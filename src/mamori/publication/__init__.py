"""Publishing the policy: versions, what each changed, and the version a process enforces.

- :mod:`~mamori.publication.versions` published versions (``policy_versions``), each with its
  audit entry
- :mod:`~mamori.publication.records` what each version changed from the one before, and the
  changes whose new uses wait for each person's consent
- :mod:`~mamori.publication.publish` publishing a declaration: version, change record and
  audit entry in one transaction
- :mod:`~mamori.publication.current` the current version as a process sees it (parsed and
  compiled into read rules once per version)
- :mod:`~mamori.publication.storage` every query of the package (``policy_versions``,
  ``policy_changes``)
"""
