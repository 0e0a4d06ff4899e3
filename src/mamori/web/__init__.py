"""The ASGI application: public pages, the REST API, and (later) the privacy center and console."""
