"""The REST API under /api/v1: a module per resource, Bearer service keys (:mod:`.auth`), and
the request and response models (:mod:`.schemas`). Importing this package loads no router."""
