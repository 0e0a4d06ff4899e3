"""The admin console under /admin: sign-in (:mod:`.auth`), the menu and dashboard
(:mod:`.nav`), staff and the audit log (:mod:`.console`), the outbox, the request queue."""
