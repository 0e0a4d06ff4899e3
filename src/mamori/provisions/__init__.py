"""Third-party provision (APPI 27-31): the gate every provision passes, people's consents to
recipients, and the records the law asks for."""
